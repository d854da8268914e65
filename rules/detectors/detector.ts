import type { AlarmKind } from '../alarms/kinds.js';
import type { Evidence } from '../alarms/lifecycle.js';
import type { FieldValue } from '../model/reading.js';
import type { HourlyHistory, RunHistory } from '../history.js';
import type { DeviceFacts, Live, SiteFacts } from '../site-facts.js';
import type { Thresholds } from '../thresholds.js';

/** What a detector sees when it checks one device. */
export interface CheckInput {
  device: DeviceFacts;
  live: Live | undefined;
  liveOf(id: string): Live | undefined;
  facts: SiteFacts;
  t: Thresholds;
  now: number;
  /** The alarm is already pending or firing: detectors with value hysteresis use the restore threshold. */
  wasActive: boolean;
  /** Hourly minimum and maximum of a tracked field (water meters' flow_m3h, electricity meters' power_kw). */
  hourly(deviceId: string, field: string): HourlyHistory | undefined;
  /** Run lengths of a pump. */
  runs(deviceId: string): RunHistory | undefined;
  /** Electricity meters: the time of the latest reading that showed every phase lost. */
  lostUntil(deviceId: string): number | undefined;
  /** Silent for longer than its offline limit (3 intervals by default). */
  silent(deviceId: string): boolean;
  /** Local date and hour in the site's time zone. */
  local(ts: number): { date: string; hour: number };
}

/**
 * One rule of DOMAIN.md §2: a condition on a device's live values. The duration ("held for
 * 20 s") and the clearing hysteresis are the alarm lifecycle's job, from `durations`.
 */
export interface Detector {
  kind: AlarmKind;
  /** A short name when one alarm kind has several conditions (trapped at a floor / between floors). */
  variant?: string;
  applies(device: DeviceFacts): boolean;
  /** Can become true with no new reading (silence, time running on): checked on every sweep of all devices. */
  timeBased?: boolean;
  durations(t: Thresholds): { forS: number; clearS: number };
  /** Evidence when the condition holds now, undefined when it does not. */
  check(input: CheckInput): Evidence | undefined;
}

/** Evidence in both languages from the readings it rests on. */
export function evidence(zh: string, en: string, live: Live | undefined, deviceId: string, fields: string[]): Evidence {
  const readings: Evidence['readings'] = [];
  for (const field of fields) {
    const f = live?.fields.get(field);
    if (f) readings.push({ deviceId, field, value: f.value as FieldValue, ts: f.ts });
  }
  return { text: { zh, en }, readings };
}
