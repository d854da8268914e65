import { severityRank, type Severity } from './kinds.js';

// The order of the alarm board, one rule for the API and every screen. Real alarms first:
// a drill alarm, firing or not, never sorts above a real firing one (invariant I8). Then
// critical first; among equals, people trapped in a lift; firing before cleared; oldest first.

export interface BoardAlarm {
  kind: string;
  severity: Severity;
  status: string;
  since: number;
  raisedAt?: number;
  drill?: string;
}

const rank = (a: BoardAlarm): number[] => [
  a.drill === undefined ? 0 : 1,
  severityRank(a.severity),
  a.kind === 'lift_entrapment' ? 0 : 1,
  a.status === 'firing' ? 0 : 1,
];

export function boardOrder(a: BoardAlarm, b: BoardAlarm): number {
  const ra = rank(a);
  const rb = rank(b);
  for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return ra[i]! - rb[i]!;
  return (a.raisedAt ?? a.since) - (b.raisedAt ?? b.since);
}
