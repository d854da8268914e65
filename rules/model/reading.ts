import { z } from 'zod';
import { DEVICE_KINDS, FIELDS, type DeviceKind, type FieldDef } from './fields.js';

export type FieldValue = number | boolean | string;

/** Good = read from the device; uncertain = device flagged it; bad = known wrong but kept. */
export const QUALITIES = ['good', 'uncertain', 'bad'] as const;
export type Quality = (typeof QUALITIES)[number];

/**
 * The one thing adapters hand downstream. `ts` is epoch milliseconds; it may carry a
 * fraction (microseconds) so that two receive-stamped readings of one device never share
 * a timestamp, which InfluxDB would treat as the same point.
 */
export interface Reading {
  deviceId: string;
  kind: DeviceKind;
  ts: number;
  fields: Record<string, FieldValue>;
  quality: Quality;
}

/** Why a reading or payload was refused; each reason is a label of the rejected-readings metric. */
export const REJECT_REASONS = [
  'not_json',
  'bad_shape',
  'oversized',
  'unknown_device',
  'unknown_field',
  'bad_type',
  'out_of_range',
  'bad_timestamp',
  'no_fields',
  'spool_full',
  'spool_error',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export type FieldCheck =
  { ok: true; fields: Record<string, FieldValue> } | { ok: false; reason: RejectReason; detail: string };

function fieldSchema(def: FieldDef): z.ZodType<FieldValue> {
  switch (def.type) {
    case 'bool':
      return z.boolean();
    case 'enum':
      return z.enum(def.values as [string, ...string[]]);
    case 'int': {
      let s = z.number().int();
      if (def.min !== undefined) s = s.min(def.min);
      if (def.max !== undefined) s = s.max(def.max);
      return s;
    }
    case 'float': {
      let s = z.number();
      if (def.min !== undefined) s = s.min(def.min);
      if (def.max !== undefined) s = s.max(def.max);
      return s;
    }
  }
}

// Built once from the catalogue: the schemas are data-derived, not hand-written per kind.
const KIND_SCHEMAS = Object.fromEntries(
  DEVICE_KINDS.map((kind) => [
    kind,
    z.strictObject(
      Object.fromEntries(Object.entries(FIELDS[kind]).map(([name, def]) => [name, fieldSchema(def).optional()])),
    ),
  ]),
) as unknown as Record<DeviceKind, z.ZodType<Record<string, FieldValue>>>;

/** A value this field certainly accepts (never wrong the other way: unsure means false). */
function acceptsValue(def: FieldDef, enumValues: ReadonlySet<string> | undefined): (v: unknown) => boolean {
  switch (def.type) {
    case 'bool':
      return (v) => typeof v === 'boolean';
    case 'enum':
      return (v) => typeof v === 'string' && enumValues!.has(v);
    case 'int':
    case 'float': {
      const whole = def.type === 'int';
      const min = def.min ?? -Infinity;
      const max = def.max ?? Infinity;
      return (v) =>
        typeof v === 'number' && (whole ? Number.isSafeInteger(v) : Number.isFinite(v)) && v >= min && v <= max;
    }
  }
}

/**
 * The common case without zod: fields that are all known, of the right type and in range come
 * back as the object zod would return (the catalogue's key order), or undefined when anything
 * is off, and zod then gives the refusal with its usual reason and words. zod costs about a
 * microsecond per field on the ingest path; this costs a map lookup and a type check.
 * reading.test.ts checks that both agree on random input.
 */
function compileCheck(
  kind: DeviceKind,
): (fields: Record<string, unknown>, skip?: ReadonlySet<string>) => Record<string, FieldValue> | undefined {
  const order = Object.keys(FIELDS[kind]);
  const accepts = new Map(
    order.map((name) => {
      const def = FIELDS[kind][name]!;
      return [name, acceptsValue(def, def.values ? new Set(def.values) : undefined)] as const;
    }),
  );
  return (fields, skip) => {
    let count = 0;
    for (const key in fields) {
      if (skip?.has(key)) continue;
      if (!Object.hasOwn(fields, key)) return undefined;
      const ok = accepts.get(key);
      if (!ok || !ok(fields[key])) return undefined;
      count++;
    }
    if (count === 0) return undefined;
    const clean: Record<string, FieldValue> = {};
    for (const name of order) {
      const v = fields[name];
      if (v !== undefined && !skip?.has(name)) clean[name] = v as FieldValue;
    }
    return clean;
  };
}

const FAST_CHECKS = Object.fromEntries(DEVICE_KINDS.map((kind) => [kind, compileCheck(kind)])) as Record<
  DeviceKind,
  ReturnType<typeof compileCheck>
>;

/** Checks a set of canonical fields against the catalogue of the device's kind. */
export function checkFields(kind: DeviceKind, fields: Record<string, unknown>): FieldCheck {
  const fast = FAST_CHECKS[kind](fields);
  return fast ? { ok: true, fields: fast } : checkFieldsReference(kind, fields);
}

/**
 * checkFields' answer when the fields are good, else undefined (checkFields then says what is
 * wrong). `skip`: keys of the object that are not fields (a payload's time and quality), left
 * out without copying the rest first.
 */
export function acceptedFields(
  kind: DeviceKind,
  fields: Record<string, unknown>,
  skip?: ReadonlySet<string>,
): Record<string, FieldValue> | undefined {
  return FAST_CHECKS[kind](fields, skip);
}

/** The zod check alone: the reference `checkFields` must always agree with (tested). */
export function checkFieldsReference(kind: DeviceKind, fields: Record<string, unknown>): FieldCheck {
  const result = KIND_SCHEMAS[kind].safeParse(fields);
  if (result.success) {
    const clean = result.data;
    if (Object.keys(clean).length === 0)
      return { ok: false, reason: 'no_fields', detail: `no ${kind} field in the reading` };
    return { ok: true, fields: clean };
  }
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    return { ok: false, reason: 'unknown_field', detail: `${issue.keys.join(', ')} is not a ${kind} field` };
  }
  const name = String(issue.path[0] ?? '');
  if (issue.code === 'too_small' || issue.code === 'too_big') {
    return {
      ok: false,
      reason: 'out_of_range',
      detail: `${name}=${String(fields[name])} is out of range (${issue.message})`,
    };
  }
  return { ok: false, reason: 'bad_type', detail: `${name}: ${issue.message}` };
}
