import { FIELDS, isDeviceKind, type FieldType } from '../../rules/model/fields.js';
import type { Point, ReadingsQuery } from './driver.js';

/** Tags a point may carry (DOMAIN.md §1 places), in this order. */
export const TAG_NAMES = ['site', 'building', 'floor', 'unit', 'room', 'device'] as const;
const TAG_SET: ReadonlySet<string> = new Set(TAG_NAMES);

/** Written (as a string) only for readings that are not `good`; see pipeline/point.ts. */
export const QUALITY_FIELD = 'quality';

/**
 * The stored type of a field: fixed by the catalogue, never guessed from the value, so a
 * float that happens to be whole is never written as an integer (InfluxDB would then refuse
 * every later fractional value with a type conflict).
 */
export function storedFieldType(measurement: string, field: string): FieldType | undefined {
  if (!isDeviceKind(measurement)) return undefined;
  if (field === QUALITY_FIELD) return 'enum';
  return FIELDS[measurement][field]?.type;
}

/** The fields a query returns by default: the catalogue's, then quality. */
export function storedFieldNames(measurement: string): string[] {
  if (!isDeviceKind(measurement)) return [];
  return [...Object.keys(FIELDS[measurement]), QUALITY_FIELD];
}

const BAD_TEXT = /[\n\r\t]/;
/** Frozen tags objects (one per device, shared by its points: see the pipeline) found good once. */
const goodTags = new WeakSet<object>();

/**
 * Why a point cannot be stored, or undefined when it can. Cheap on purpose (it runs on every
 * point): the pipeline validated readings already; this guards the database and the line
 * protocol (a newline in a value would start a new line; tabs are escaped differently by
 * the two client libraries) against anything else.
 */
export function unstorable(p: Point): string | undefined {
  if (!isDeviceKind(p.measurement)) return `unknown measurement "${p.measurement}"`;
  if (!Number.isSafeInteger(p.tsUs) || p.tsUs <= 0) return `bad timestamp ${String(p.tsUs)}`;
  if (!goodTags.has(p.tags)) {
    for (const name in p.tags) {
      if (!TAG_SET.has(name)) return `unknown tag "${name}"`;
      const value = p.tags[name];
      if (typeof value !== 'string' || value === '' || BAD_TEXT.test(value)) return `bad value for tag ${name}`;
    }
    if (Object.isFrozen(p.tags)) goodTags.add(p.tags);
  }
  let count = 0;
  for (const name in p.fields) {
    count++;
    const value = p.fields[name];
    const type = storedFieldType(p.measurement, name);
    if (!type) return `unknown field "${name}" for ${p.measurement}`;
    const ok =
      type === 'float'
        ? typeof value === 'number' && Number.isFinite(value)
        : type === 'int'
          ? Number.isSafeInteger(value)
          : type === 'bool'
            ? typeof value === 'boolean'
            : typeof value === 'string' && !BAD_TEXT.test(value);
    if (!ok) return `field ${name} must be ${type}, got ${JSON.stringify(value)}`;
  }
  return count === 0 ? 'no fields' : undefined;
}

/** Epoch ms → nanoseconds as an exact integer literal (beyond 2^53, hence BigInt). */
export function msToNsLiteral(ms: number): string {
  if (!Number.isFinite(ms)) throw new Error(`bad time ${ms}`);
  return (BigInt(Math.floor(ms)) * 1_000_000n).toString();
}

/**
 * An RFC 3339 time from the database in one fixed shape, 6 fractional digits
 * (2023-11-14T22:13:20.123400Z): InfluxDB trims trailing zeros, so its strings do not sort
 * or compare as text.
 */
export function isoMicros(time: string): string {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(time);
  if (!m) return time;
  return `${m[1]}.${(m[2] ?? '').padEnd(6, '0').slice(0, 6)}Z`;
}

/** The fields a readings query asks for (all of the kind's by default), checked against the catalogue. */
export function queryFields(q: ReadingsQuery): string[] {
  const fields = q.fields ?? storedFieldNames(q.measurement);
  if (fields.length === 0) throw new Error(`unknown measurement "${q.measurement}"`);
  for (const f of fields) {
    if (!storedFieldType(q.measurement, f)) throw new Error(`unknown field "${f}" for ${q.measurement}`);
  }
  if (!Number.isSafeInteger(q.limit) || q.limit < 1) throw new Error(`bad limit ${q.limit}`);
  return fields;
}
