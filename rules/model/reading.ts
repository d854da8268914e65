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
  | { ok: true; fields: Record<string, FieldValue> }
  | { ok: false; reason: RejectReason; detail: string };

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
    z.strictObject(Object.fromEntries(Object.entries(FIELDS[kind]).map(([name, def]) => [name, fieldSchema(def).optional()]))),
  ]),
) as unknown as Record<DeviceKind, z.ZodType<Record<string, FieldValue>>>;

/** Checks a set of canonical fields against the catalogue of the device's kind. */
export function checkFields(kind: DeviceKind, fields: Record<string, unknown>): FieldCheck {
  const result = KIND_SCHEMAS[kind].safeParse(fields);
  if (result.success) {
    const clean = result.data;
    if (Object.keys(clean).length === 0) return { ok: false, reason: 'no_fields', detail: `no ${kind} field in the reading` };
    return { ok: true, fields: clean };
  }
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    return { ok: false, reason: 'unknown_field', detail: `${issue.keys.join(', ')} is not a ${kind} field` };
  }
  const name = String(issue.path[0] ?? '');
  if (issue.code === 'too_small' || issue.code === 'too_big') {
    return { ok: false, reason: 'out_of_range', detail: `${name}=${String(fields[name])} is out of range (${issue.message})` };
  }
  return { ok: false, reason: 'bad_type', detail: `${name}: ${issue.message}` };
}
