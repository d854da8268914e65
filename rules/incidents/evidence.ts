import type { FieldValue } from '../model/reading.js';
import type { DeviceFacts, Live } from '../site-facts.js';
import type { EvidenceCondition, FieldTest } from './playbook.js';

// What the sensors may say (invariant I3): a condition holds on a device only when every field
// it reads passes and was reported recently — newer than `fresh_intervals` of the device's
// reporting interval. A stale or missing reading says nothing: a terminal that went dark with
// the power keeps its check open. Holding is tracked by the board (a hold that breaks starts again).

export type LiveOf = (deviceId: string) => Live | undefined;

function passes(t: FieldTest, v: FieldValue): boolean {
  if (t.equals !== undefined && v !== t.equals) return false;
  if (t.below !== undefined && !(typeof v === 'number' && v <= t.below)) return false;
  if (t.above !== undefined && !(typeof v === 'number' && v >= t.above)) return false;
  return true;
}

function testHolds(t: FieldTest, live: Live | undefined, freshFrom: number): boolean {
  const f = live?.fields.get(t.field);
  if (f === undefined) return t.missing_ok;
  return f.ts >= freshFrom && passes(t, f.value);
}

/** Whether the condition holds on this device now, on fresh readings only. */
export function holdsOn(
  cond: EvidenceCondition,
  device: DeviceFacts | undefined,
  live: Live | undefined,
  now: number,
): boolean {
  if (!device || device.kind !== cond.kind || !live) return false;
  const freshFrom = now - cond.fresh_intervals * device.intervalS * 1000;
  return cond.all.every((c) =>
    'any' in c ? c.any.some((t) => testHolds(t, live, freshFrom)) : testHolds(c, live, freshFrom),
  );
}

/** Whether it holds on every device (and there is at least one). */
export function holdsOnAll(
  cond: EvidenceCondition,
  devices: readonly (DeviceFacts | undefined)[],
  liveOf: LiveOf,
  now: number,
): boolean {
  return devices.length > 0 && devices.every((d) => d !== undefined && holdsOn(cond, d, liveOf(d.id), now));
}
