import { ALARM_KINDS, type AlarmKind, type Severity } from './kinds.js';

// An alarm is a plain value; `transition` returns the next value and what happened, with
// the time passed in (the Grafana ngalert shape). One alarm per (kind, device): repeats and
// flaps update it instead of creating new ones.
//
//   condition true ──► pending ──(held forS)──► firing ──(false for clearS)──► cleared ──► closed
//                         │ false: dropped          ▲  true again within clearS: still firing
//                                                   └── true again within reopenS of clearing: reopened
//
// Acknowledgement is orthogonal to the condition: a firing or cleared alarm can be
// acknowledged (by whom, when, comment). A cleared alarm closes once it is acknowledged,
// or at once when its severity does not need acknowledgement (minor, warning).
//
// Each episode is acknowledged (invariant I2): when the alarm fires again (reopened), the
// acknowledgement of the episode before is kept in `earlierAcks` but no longer counts, so the
// board flashes again and the alarm cannot close until someone acknowledges this episode.

/** What a duty engineer reads to see why: a sentence and the readings behind it. */
export interface Evidence {
  text: { zh: string; en: string };
  readings: { deviceId: string; field: string; value: number | boolean | string; ts: number }[];
}

export type AlarmStatus = 'pending' | 'firing' | 'cleared' | 'closed';

export interface Acknowledgement {
  by: string;
  at: number;
  comment?: string;
}

export interface Alarm {
  /** Stable: kind, device and the time the condition first held. */
  id: string;
  kind: AlarmKind;
  deviceId: string;
  severity: Severity;
  status: AlarmStatus;
  /** The condition became true (start of pending). */
  since: number;
  raisedAt?: number;
  /** The condition has been false since then, while still firing (hysteresis running). */
  clearingSince?: number;
  clearedAt?: number;
  closedAt?: number;
  /** The acknowledgement of the current episode (since it last fired or reopened). */
  ack?: Acknowledgement;
  /** Acknowledgements of earlier episodes of this alarm, oldest first (history only). */
  earlierAcks?: Acknowledgement[];
  /** Evidence that raised it, and the latest one while it is active. */
  evidence: Evidence;
  /** Times it came back after clearing (flapping shows here, not as new alarms). */
  reopened: number;
  /** The drill running when it was raised: never sent to a real notification channel. */
  drill?: string;
  /** Notes people added while it was open (who, when, what). */
  comments?: { by: string; at: number; text: string }[];
}

export interface LifecyclePolicy {
  /** The condition must hold this long before the alarm fires (0 = at once). */
  forS: number;
  /** The condition must stay false this long before the alarm clears. */
  clearS: number;
  /** A cleared alarm whose condition returns within this window is reopened, not raised anew. */
  reopenS: number;
  severity: Severity;
}

export type AlarmInput =
  | { type: 'condition'; active: boolean; evidence?: Evidence; drill?: string }
  | { type: 'acknowledge'; by: string; comment?: string }
  | { type: 'comment'; by: string; text: string };

export type AlarmEventType =
  'pending' | 'firing' | 'reopened' | 'acknowledged' | 'commented' | 'cleared' | 'closed' | 'dropped';

export interface AlarmEvent {
  type: AlarmEventType;
  alarmId: string;
  at: number;
}

export interface Transition {
  /** Undefined once a pending alarm is dropped (its condition did not hold long enough). */
  alarm: Alarm | undefined;
  events: AlarmEvent[];
}

export class AlarmInputError extends Error {}

/** Default policy of a kind: severity from the catalogue, durations from the detector. */
export function policyFor(
  kind: AlarmKind,
  durations: { forS: number; clearS: number; reopenS?: number },
  severity?: Severity,
): LifecyclePolicy {
  return {
    forS: durations.forS,
    clearS: durations.clearS,
    reopenS: durations.reopenS ?? 600,
    severity: severity ?? ALARM_KINDS[kind].severity,
  };
}

const needsAck = (s: Severity) => s === 'critical' || s === 'major';

/**
 * The next state of one (kind, device) alarm. `prev` undefined or closed means none is
 * active. Pure: the same inputs always give the same result.
 */
export function transition(
  prev: Alarm | undefined,
  key: { kind: AlarmKind; deviceId: string },
  input: AlarmInput,
  now: number,
  policy: LifecyclePolicy,
): Transition {
  // A closed alarm whose condition comes back soon after it cleared is reopened: flapping
  // shows as a count on one alarm, never as a stream of new ones.
  const reopenable =
    prev?.status === 'closed' && prev.clearedAt !== undefined && now - prev.clearedAt <= policy.reopenS * 1000;
  const active =
    prev && (prev.status !== 'closed' || (reopenable && input.type === 'condition' && input.active)) ? prev : undefined;
  const events: AlarmEvent[] = [];
  const emit = (a: Alarm, type: AlarmEventType) => events.push({ type, alarmId: a.id, at: now });

  if (input.type === 'comment') {
    if (!active || active.status === 'pending')
      throw new AlarmInputError(
        `no ${active ? 'firing' : 'active'} ${key.kind} alarm on ${key.deviceId} to comment on`,
      );
    const commented: Alarm = {
      ...active,
      comments: [...(active.comments ?? []), { by: input.by, at: now, text: input.text }],
    };
    emit(commented, 'commented');
    return { alarm: commented, events };
  }

  if (input.type === 'acknowledge') {
    if (!active || active.status === 'pending')
      throw new AlarmInputError(
        `no ${active ? 'firing' : 'active'} ${key.kind} alarm on ${key.deviceId} to acknowledge`,
      );
    if (active.ack) return { alarm: active, events };
    const acked: Alarm = {
      ...active,
      ack: { by: input.by, at: now, ...(input.comment ? { comment: input.comment } : {}) },
    };
    emit(acked, 'acknowledged');
    return { alarm: closeIfDone(acked, now, emit), events };
  }

  const evidence = input.evidence;
  if (input.active) {
    if (!active) {
      if (!evidence) throw new AlarmInputError(`${key.kind} on ${key.deviceId}: an alarm needs its evidence`);
      const a: Alarm = {
        id: `${key.kind}:${key.deviceId}:${now}`,
        kind: key.kind,
        deviceId: key.deviceId,
        severity: policy.severity,
        status: 'pending',
        since: now,
        evidence,
        reopened: 0,
        ...(input.drill ? { drill: input.drill } : {}),
      };
      emit(a, 'pending');
      return { alarm: fireIfDue(a, now, policy, emit), events };
    }
    const { clearingSince: _c, ...rest } = active;
    const updated: Alarm = {
      ...rest,
      evidence: active.status === 'pending' ? active.evidence : (evidence ?? active.evidence),
    };
    if (
      (active.status === 'cleared' || active.status === 'closed') &&
      (active.drill ?? null) !== (input.drill ?? null)
    ) {
      // Another drill, or real life after a drill: a new episode, never the old one's tag.
      if (active.status === 'cleared') emit({ ...active, status: 'closed', closedAt: now }, 'closed');
      const next = transition(undefined, key, input, now, policy);
      return { alarm: next.alarm, events: [...events, ...next.events] };
    }
    if (active.status === 'cleared' || active.status === 'closed') {
      // Still open (cleared, waiting for its acknowledgement) or closed moments ago: the same
      // alarm again, as a count on it rather than a new one. It is a new episode, though: the
      // acknowledgement of the last one goes to the history and someone must answer this one.
      const { clearedAt: _cl, closedAt: _co, ack, ...stillOpen } = updated;
      const reopened: Alarm = {
        ...stillOpen,
        status: 'firing',
        reopened: active.reopened + 1,
        ...(ack ? { earlierAcks: [...(active.earlierAcks ?? []), ack] } : {}),
      };
      emit(reopened, 'reopened');
      return { alarm: reopened, events };
    }
    return { alarm: active.status === 'pending' ? fireIfDue(updated, now, policy, emit) : updated, events };
  }

  // Condition false.
  if (!active) return { alarm: undefined, events };
  if (active.status === 'pending') {
    emit(active, 'dropped');
    return { alarm: undefined, events };
  }
  if (active.status === 'cleared') return { alarm: closeIfDone(active, now, emit), events };
  const clearingSince = active.clearingSince ?? now;
  if (now - clearingSince >= policy.clearS * 1000) {
    const { clearingSince: _c, ...rest } = active;
    const cleared: Alarm = { ...rest, status: 'cleared', clearedAt: now };
    emit(cleared, 'cleared');
    return { alarm: closeIfDone(cleared, now, emit), events };
  }
  return { alarm: active.clearingSince === undefined ? { ...active, clearingSince } : active, events };
}

function fireIfDue(a: Alarm, now: number, policy: LifecyclePolicy, emit: (a: Alarm, t: AlarmEventType) => void): Alarm {
  if (now - a.since < policy.forS * 1000) return a;
  const firing: Alarm = { ...a, status: 'firing', raisedAt: now };
  emit(firing, 'firing');
  return firing;
}

function closeIfDone(a: Alarm, now: number, emit: (a: Alarm, t: AlarmEventType) => void): Alarm {
  if (a.status !== 'cleared' || (needsAck(a.severity) && !a.ack)) return a;
  const closed: Alarm = { ...a, status: 'closed', closedAt: now };
  emit(closed, 'closed');
  return closed;
}
