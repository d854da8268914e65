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
  key: AlarmKey,
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
  const step: Step = {
    key: key.previousId === undefined && prev ? { ...key, previousId: prev.id } : key,
    now,
    policy,
    events,
    emit: (a, type) => events.push({ type, alarmId: a.id, at: now }),
  };
  if (input.type === 'comment') return { alarm: comment(firing(active, key, 'comment on'), input, step), events };
  if (input.type === 'acknowledge')
    return { alarm: acknowledge(firing(active, key, 'acknowledge'), input, step), events };
  if (input.active) return { alarm: holds(active, input, step), events };
  return { alarm: gone(active, step), events };
}

/** previousId: the alarm before on this kind and device, if any (a new one's id must differ from it). */
type AlarmKey = { kind: AlarmKind; deviceId: string; previousId?: string };

/**
 * A new alarm's id: kind, device and the millisecond it started. One started in the same
 * millisecond as the alarm before it on the key (a drill's alarm ended and the next drill's
 * begun in one evaluation) gets a count after it, so ids never repeat.
 */
export function newAlarmId(key: AlarmKey, now: number): string {
  const base = `${key.kind}:${key.deviceId}:${now}`;
  const before = key.previousId;
  if (before === undefined || (before !== base && !before.startsWith(`${base}:`))) return base;
  return `${base}:${before === base ? 1 : Number(before.slice(base.length + 1)) + 1}`;
}
type Emit = (a: Alarm, t: AlarmEventType) => void;

/** One transition's fixed inputs and the events it emits. */
interface Step {
  key: AlarmKey;
  now: number;
  policy: LifecyclePolicy;
  events: AlarmEvent[];
  emit: Emit;
}

/** Operators act on firing alarms only: a pending one has not been shown to anyone yet. */
function firing(active: Alarm | undefined, key: AlarmKey, act: string): Alarm {
  if (!active || active.status === 'pending')
    throw new AlarmInputError(`no ${active ? 'firing' : 'active'} ${key.kind} alarm on ${key.deviceId} to ${act}`);
  return active;
}

function comment(active: Alarm, input: { by: string; text: string }, { now, emit }: Step): Alarm {
  const commented: Alarm = {
    ...active,
    comments: [...(active.comments ?? []), { by: input.by, at: now, text: input.text }],
  };
  emit(commented, 'commented');
  return commented;
}

function acknowledge(active: Alarm, input: { by: string; comment?: string }, { now, emit }: Step): Alarm {
  if (active.ack) return active;
  const acked: Alarm = {
    ...active,
    ack: { by: input.by, at: now, ...(input.comment ? { comment: input.comment } : {}) },
  };
  emit(acked, 'acknowledged');
  return closeIfDone(acked, now, emit);
}

type Condition = Extract<AlarmInput, { type: 'condition' }>;

/** The condition holds: a new alarm, one that goes on, or one back again. */
function holds(active: Alarm | undefined, input: Condition, step: Step): Alarm | undefined {
  const { key, now, policy, emit } = step;
  const evidence = input.evidence;
  if (!active) {
    if (!evidence) throw new AlarmInputError(`${key.kind} on ${key.deviceId}: an alarm needs its evidence`);
    const a: Alarm = {
      id: newAlarmId(key, now),
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
    return fireIfDue(a, now, policy, emit);
  }
  const { clearingSince: _c, ...rest } = active;
  const updated: Alarm = {
    ...rest,
    evidence: active.status === 'pending' ? active.evidence : (evidence ?? active.evidence),
  };
  if (active.status === 'cleared' || active.status === 'closed') return back(active, updated, input, step);
  return active.status === 'pending' ? fireIfDue(updated, now, policy, emit) : updated;
}

/** The condition holds again on a cleared alarm, or on one closed moments ago. */
function back(active: Alarm, updated: Alarm, input: Condition, step: Step): Alarm | undefined {
  const { key, now, policy, emit, events } = step;
  if ((active.drill ?? null) !== (input.drill ?? null)) {
    // Another drill, or real life after a drill: a new episode, never the old one's tag.
    if (active.status === 'cleared') emit({ ...active, status: 'closed', closedAt: now }, 'closed');
    const next = transition(undefined, { ...key, previousId: active.id }, input, now, policy);
    events.push(...next.events);
    return next.alarm;
  }
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
  return reopened;
}

/** The condition is false: a pending alarm is dropped, a firing one clears once it stayed false long enough. */
function gone(active: Alarm | undefined, { now, policy, emit }: Step): Alarm | undefined {
  if (!active) return undefined;
  if (active.status === 'pending') {
    emit(active, 'dropped');
    return undefined;
  }
  if (active.status === 'cleared') return closeIfDone(active, now, emit);
  const clearingSince = active.clearingSince ?? now;
  if (now - clearingSince >= policy.clearS * 1000) {
    const { clearingSince: _c, ...rest } = active;
    const cleared: Alarm = { ...rest, status: 'cleared', clearedAt: now };
    emit(cleared, 'cleared');
    return closeIfDone(cleared, now, emit);
  }
  return active.clearingSince === undefined ? { ...active, clearingSince } : active;
}

function fireIfDue(a: Alarm, now: number, policy: LifecyclePolicy, emit: Emit): Alarm {
  if (now - a.since < policy.forS * 1000) return a;
  const firing: Alarm = { ...a, status: 'firing', raisedAt: now };
  emit(firing, 'firing');
  return firing;
}

function closeIfDone(a: Alarm, now: number, emit: Emit): Alarm {
  if (a.status !== 'cleared' || (needsAck(a.severity) && !a.ack)) return a;
  const closed: Alarm = { ...a, status: 'closed', closedAt: now };
  emit(closed, 'closed');
  return closed;
}
