import { z } from 'zod';
import { ALARM_KIND_NAMES, type AlarmKind } from './kinds.js';
import type { Alarm } from './lifecycle.js';

// Silences and maintenance windows: who, why, from when until when, for which device,
// building or alarm kind. They mute notifications only: a silenced alarm is still raised,
// recorded and shown (marked as silenced), so nothing disappears from the duty room's view.

export const silenceMatch = z
  .strictObject({
    deviceId: z.string().min(1).max(64).optional(),
    building: z.string().min(1).max(64).optional(),
    kind: z.enum(ALARM_KIND_NAMES as [AlarmKind, ...AlarmKind[]]).optional(),
  })
  .refine(
    (m) => m.deviceId !== undefined || m.building !== undefined || m.kind !== undefined,
    'name a device, a building or an alarm kind: a silence of everything is not allowed',
  );

export type SilenceMatch = z.infer<typeof silenceMatch>;

export interface Silence {
  id: string;
  by: string;
  reason: string;
  /** Epoch ms; a maintenance window may start later than it was set. */
  from: number;
  until: number;
  /** Planned work (维保) rather than a mute for a known nuisance. */
  maintenance: boolean;
  match: SilenceMatch;
}

/** The silence muting this alarm now, if any. Never a trapped lift: DOMAIN.md §2, nothing mutes it. */
export function silencing(
  alarm: Pick<Alarm, 'kind' | 'deviceId'>,
  building: string | undefined,
  silences: Iterable<Silence>,
  now: number,
): Silence | undefined {
  if (alarm.kind === 'lift_entrapment') return undefined;
  for (const s of silences) {
    if (now < s.from || now >= s.until) continue;
    const m = s.match;
    if (m.deviceId !== undefined && m.deviceId !== alarm.deviceId) continue;
    if (m.building !== undefined && m.building !== building) continue;
    if (m.kind !== undefined && m.kind !== alarm.kind) continue;
    return s;
  }
  return undefined;
}
