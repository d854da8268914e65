import type { DeviceKind } from '../../../rules/model/fields.js';
import {
  acceptedFields,
  checkFields,
  QUALITIES,
  type FieldValue,
  type Quality,
  type Reading,
  type RejectReason,
} from '../../../rules/model/reading.js';
import type { PayloadProfile } from '../../profiles/payload.js';

/** What the decoder needs to know about the device a topic belongs to. */
export interface TopicDevice {
  id: string;
  kind: DeviceKind;
  profile: PayloadProfile;
}

export interface DecodeLimits {
  maxPayloadBytes: number;
  /** Oldest and newest acceptable timestamps, epoch ms. */
  oldest: number;
  newest: number;
  /** Largest number of readings in one array payload. */
  maxBatch: number;
}

export interface Rejection {
  reason: RejectReason;
  detail: string;
}

export interface Decoded {
  readings: Reading[];
  rejections: readonly Rejection[];
}

const NO_REJECTIONS: readonly Rejection[] = Object.freeze([]);

const RESERVED = new Set(['ts', 'quality']);

/**
 * Turns one MQTT message into readings. Pure: the caller gives the device (or undefined when
 * the topic names none), the receive-time stamper (for items without a time of their own)
 * and the limits. One bad element of an array payload is
 * refused on its own; its neighbours still count.
 */
export function decodeMessage(
  topic: string,
  payload: Buffer,
  device: TopicDevice | undefined,
  stamp: () => number,
  limits: DecodeLimits,
): Decoded {
  const reject = (reason: RejectReason, detail: string): Decoded => ({
    readings: [],
    rejections: [{ reason, detail }],
  });
  if (payload.length > limits.maxPayloadBytes) {
    return reject('oversized', `${topic}: ${payload.length} bytes > limit ${limits.maxPayloadBytes}`);
  }
  if (!device) return reject('unknown_device', `${topic}: no MQTT device is configured for this topic`);
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return reject('not_json', `${topic}: ${(err as Error).message}`);
  }
  if (!Array.isArray(body)) {
    // Most messages are one reading: no array around it, no shared result to push into.
    const one = decodeItem(body, device, stamp, limits);
    if ('reason' in one) return reject(one.reason, `${topic}: ${one.detail}`);
    return { readings: [one], rejections: NO_REJECTIONS };
  }
  const items: unknown[] = body;
  if (items.length === 0) return reject('no_fields', `${topic}: empty array`);
  if (items.length > limits.maxBatch)
    return reject('oversized', `${topic}: ${items.length} readings in one message > ${limits.maxBatch}`);

  const readings: Reading[] = [];
  const rejections: Rejection[] = [];
  for (const item of items) {
    const one = decodeItem(item, device, stamp, limits);
    if ('reason' in one) rejections.push({ reason: one.reason, detail: `${topic}: ${one.detail}` });
    else readings.push(one);
  }
  return { readings, rejections };
}

function decodeItem(
  item: unknown,
  device: TopicDevice,
  stamp: () => number,
  limits: DecodeLimits,
): Reading | Rejection {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    return {
      reason: 'bad_shape',
      detail: `expected a JSON object, got ${item === null ? 'null' : Array.isArray(item) ? 'an array' : typeof item}`,
    };
  }
  const obj = item as Record<string, unknown>;
  const { profile } = device;

  let ts: number | undefined;
  const tsKey = profile.timestamp?.field;
  if (tsKey !== undefined && obj[tsKey] !== undefined) {
    const parsed = parseTimestamp(obj[tsKey]);
    if (parsed === undefined)
      return {
        reason: 'bad_timestamp',
        detail: `${tsKey}=${JSON.stringify(obj[tsKey])} is not a time (ISO-8601 with a zone, or epoch ms/s)`,
      };
    if (parsed < limits.oldest || parsed > limits.newest) {
      return {
        reason: 'bad_timestamp',
        detail: `${tsKey}=${new Date(parsed).toISOString()} is outside the accepted window ${new Date(limits.oldest).toISOString()} … ${new Date(limits.newest).toISOString()}`,
      };
    }
    ts = parsed;
  }

  let quality: Quality = 'good';
  if (profile.canonical && obj.quality !== undefined) {
    if (typeof obj.quality !== 'string' || !(QUALITIES as readonly string[]).includes(obj.quality)) {
      return { reason: 'bad_type', detail: `quality must be one of ${QUALITIES.join(', ')}` };
    }
    quality = obj.quality as Quality;
  }

  if (profile.canonical) {
    // Good fields are taken straight from the parsed payload; the copy below is for saying what is wrong.
    const good = acceptedFields(device.kind, obj, notFields(tsKey));
    if (good) return { deviceId: device.id, kind: device.kind, ts: ts ?? stamp(), fields: good, quality };
  }
  const mapped = profile.canonical ? { fields: canonicalFields(obj, tsKey) } : mappedFields(obj, profile, tsKey);
  if ('rejection' in mapped) return mapped.rejection;
  const checked = checkFields(device.kind, mapped.fields);
  if (!checked.ok) return { reason: checked.reason, detail: checked.detail };
  return { deviceId: device.id, kind: device.kind, ts: ts ?? stamp(), fields: checked.fields, quality };
}

/** The keys of a canonical payload that are not fields, per timestamp key (profiles have a handful). */
const NOT_FIELDS = new Map<string | undefined, ReadonlySet<string>>();
function notFields(tsKey: string | undefined): ReadonlySet<string> {
  let set = NOT_FIELDS.get(tsKey);
  if (!set) NOT_FIELDS.set(tsKey, (set = new Set(tsKey === undefined ? RESERVED : [...RESERVED, tsKey])));
  return set;
}

function canonicalFields(obj: Record<string, unknown>, tsKey: string | undefined): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const key in obj) if (key !== tsKey && !RESERVED.has(key)) fields[key] = obj[key];
  return fields;
}

function mappedFields(
  obj: Record<string, unknown>,
  profile: PayloadProfile,
  tsKey: string | undefined,
): { fields: Record<string, FieldValue> } | { rejection: Rejection } {
  const fields: Record<string, FieldValue> = {};
  for (const key in obj) {
    if (key === tsKey) continue;
    const m = profile.fields[key];
    if (!m) {
      if (profile.unknown_keys === 'reject')
        return { rejection: { reason: 'unknown_field', detail: `${key} is not in payload profile ${profile.name}` } };
      continue;
    }
    let value = obj[key];
    if (value === null || value === undefined) continue; // zigbee2mqtt sends null for "unknown yet"
    if (m.map) {
      const mapped = m.map[String(value)];
      if (mapped === undefined)
        return {
          rejection: {
            reason: 'bad_type',
            detail: `${key}=${JSON.stringify(value)} has no mapping in profile ${profile.name}`,
          },
        };
      value = mapped;
    }
    if (typeof value === 'boolean' && m.invert) value = !value;
    if (typeof value === 'number' && (m.scale !== 1 || m.offset !== 0)) value = value * m.scale + m.offset;
    if (typeof value !== 'number' && typeof value !== 'boolean' && typeof value !== 'string') {
      return {
        rejection: {
          reason: 'bad_type',
          detail: `${key}: expected a number, boolean or string, got ${Array.isArray(value) ? 'an array' : typeof value}`,
        },
      };
    }
    fields[m.to] = value;
  }
  return { fields };
}

/** ISO-8601 with an explicit zone, or epoch milliseconds (or seconds, for small numbers). */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0) return undefined;
    return value < 1e11 ? value * 1000 : value;
  }
  if (typeof value === 'string') {
    // A naive local time would be read in the gateway's zone, not the device's: refuse it.
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(value)) return undefined;
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}
