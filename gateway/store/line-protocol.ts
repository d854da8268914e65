import { DEVICE_KINDS, FIELDS, type FieldType } from '../../rules/model/fields.js';
import { QUALITY_FIELD, TAG_NAMES } from './influx-schema.js';
import type { Point } from './driver.js';

// InfluxDB line protocol for our points, typed by the catalogue (never guessed from a value).
// Both drivers write through this: it produces what node-influx's schema-typed writePoints and
// the 2.x client's Point produce (line-protocol.test.ts compares them byte for byte) at about
// half their cost, which matters at tens of thousands of readings a second on two cores.
//
// Only points that passed `unstorable()` may come here: no newlines, tabs, unknown fields.

const KEY_SPECIAL = /[,= ]/;
const KEY_ESCAPE = /[,= ]/g;
const MEASUREMENT_ESCAPE = /[, ]/g;
const STRING_SPECIAL = /["\\]/;
const STRING_ESCAPE = /["\\]/g;

function escapeKey(s: string): string {
  return KEY_SPECIAL.test(s) ? s.replace(KEY_ESCAPE, '\\$&') : s;
}

function quoted(s: string): string {
  return STRING_SPECIAL.test(s) ? `"${s.replace(STRING_ESCAPE, '\\$&')}"` : `"${s}"`;
}

/** Fields of each measurement sorted by name (the order both libraries use): `name=` and type. */
const SORTED_FIELDS: Record<string, { name: string; prefix: string; type: FieldType }[]> = Object.fromEntries(
  DEVICE_KINDS.map((kind) => {
    const defs: [string, FieldType][] = [
      ...Object.entries(FIELDS[kind]).map(([n, d]): [string, FieldType] => [n, d.type]),
      [QUALITY_FIELD, 'enum'],
    ];
    defs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return [kind, defs.map(([name, type]) => ({ name, prefix: `${escapeKey(name)}=`, type }))];
  }),
);

/** Tags sorted by name: InfluxDB's documented best order. */
const SORTED_TAGS = [...TAG_NAMES].sort();

/**
 * "measurement,tag=value,…" for each (measurement, device), with the tag values it was made
 * from: a device's tags hardly ever change, so each point costs a lookup and a few string
 * comparisons instead of escaping and joining its tags again.
 */
const seriesCache = new Map<string, { tags: (string | undefined)[]; series: string }>();
const SERIES_CACHE_MAX = 100_000;

/** The same per frozen tags object (the pipeline shares one per device): no key to build. */
const seriesByTags = new WeakMap<object, { measurement: string; series: string }>();

function seriesOf(p: Point): string {
  const shared = seriesByTags.get(p.tags);
  if (shared !== undefined && shared.measurement === p.measurement) return shared.series;
  // Frozen tags are remembered by the WeakMap alone (a second entry keyed by device was 5 MB
  // of heap at 10,000 devices).
  if (!Object.isFrozen(p.tags)) return seriesFromCache(p);
  const series = seriesLine(p).series;
  seriesByTags.set(p.tags, { measurement: p.measurement, series });
  return series;
}

function seriesLine(p: Point): { tags: (string | undefined)[]; series: string } {
  let series = p.measurement.replace(MEASUREMENT_ESCAPE, '\\$&');
  const tags = SORTED_TAGS.map((name) => {
    const v = p.tags[name];
    if (v !== undefined) series += `,${escapeKey(name)}=${escapeKey(v)}`;
    return v;
  });
  return { tags, series };
}

function seriesFromCache(p: Point): string {
  const key = `${p.measurement}\u0000${p.tags.device ?? ''}`;
  const hit = seriesCache.get(key);
  if (hit) {
    let same = true;
    for (let i = 0; i < SORTED_TAGS.length; i++) if (hit.tags[i] !== p.tags[SORTED_TAGS[i]!]) same = false;
    if (same) return hit.series;
  }
  const line = seriesLine(p);
  if (seriesCache.size >= SERIES_CACHE_MAX) seriesCache.clear();
  seriesCache.set(key, line);
  return line.series;
}

function fieldValue(type: FieldType, v: number | boolean | string): string {
  switch (type) {
    case 'float':
      return String(v);
    case 'int':
      return `${Math.floor(v as number)}i`;
    case 'bool':
      return v ? 'T' : 'F';
    default:
      return quoted(String(v));
  }
}

/** One point's line (no newline), timestamp in µs (precision us/u). */
export function pointLine(p: Point): string {
  let line = seriesOf(p);
  let sep = ' ';
  for (const f of SORTED_FIELDS[p.measurement]!) {
    const v = p.fields[f.name];
    if (v === undefined) continue;
    line += sep + f.prefix + fieldValue(f.type, v);
    sep = ',';
  }
  return `${line} ${p.tsUs}`;
}

/** The body of a write request: one line per point. */
export function toLineProtocol(points: Point[]): string {
  let body = '';
  for (let i = 0; i < points.length; i++) body += i === 0 ? pointLine(points[i]!) : `\n${pointLine(points[i]!)}`;
  return body;
}
