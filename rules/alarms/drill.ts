import type { Alarm, AlarmEvent } from './lifecycle.js';

// Drill isolation (invariant I1): a drill plays against part of the estate, and only alarms
// on that part are the drill's. The scope is the devices the drill injects faults into and,
// down the feeder tree, everything they power: the readings behind an alarm there come from
// what the drill injected. An alarm anywhere else during a drill is real: escalated and sent
// as usual, never tagged.

export interface RunningDrill {
  id: string;
  /** The devices whose readings the drill makes. */
  scope: ReadonlySet<string>;
}

/** The drill an alarm raised now on this device belongs to, or undefined for a real alarm. */
export function drillOf(deviceId: string, drill: RunningDrill | undefined): string | undefined {
  return drill && drill.scope.has(deviceId) ? drill.id : undefined;
}

/**
 * Drills end clean (invariant I8): once its drill is over, a drill alarm that has cleared
 * closes without waiting for an acknowledgement nobody will give; real alarms never do.
 */
export function closeEndedDrill(
  a: Alarm,
  running: string | undefined,
  now: number,
): { alarm: Alarm; event?: AlarmEvent } {
  if (a.status !== 'cleared' || a.drill === undefined || a.drill === running) return { alarm: a };
  return { alarm: { ...a, status: 'closed', closedAt: now }, event: { type: 'closed', alarmId: a.id, at: now } };
}

/**
 * An alarm of a drill that is over, checked again (I1: a drill never hides a real event):
 * - `drop`: still pending — a drill's alarm never fires after its drill;
 * - `wait`: firing, and the device has not reported since the drill ended — its last readings
 *   still show what the drill injected, so it stays the drill's for now;
 * - `real`: firing, the device has reported since, and the condition still holds — it is real
 *   now: the drill's alarm closes and a real one starts (its own hold time again);
 * - `clear`: firing, reported since, the condition gone — it clears as the drill's;
 * - `next`: another drill now plays the device — what its readings show, or their absence,
 *   is that drill's now, so the old alarm ends (dropped or closed) whatever the device said
 *   since, and the running drill's starts afresh if the condition holds. Without it a drill
 *   started on the heels of another would never see the alarms it expects on devices the
 *   first left dark (a pump silent through both never reports between them).
 */
export function afterDrill(
  status: 'pending' | 'firing',
  heardAt: number,
  endedAt: number,
  holds: boolean,
  playedByRunningDrill: boolean,
): 'drop' | 'wait' | 'real' | 'clear' | 'next' {
  if (playedByRunningDrill) return 'next';
  if (status === 'pending') return 'drop';
  if (heardAt <= endedAt) return 'wait';
  return holds ? 'real' : 'clear';
}
