import { ALARM_KINDS } from '../alarms/kinds.js';
import type { AlarmEventType } from '../alarms/lifecycle.js';
import type { AlarmView } from '../alarms/view.js';
import { settled, type Incident, type IncidentEvent } from '../incidents/incident.js';
import type { DutyRole, Playbook } from '../incidents/playbook.js';
import {
  ALARM_CHANGES,
  EVENTS_VERSION,
  type AlarmBusEvent,
  type AlarmChangeName,
  type AlarmState,
  type IncidentBusEvent,
  type IncidentState,
  type SiteStatus,
} from './schema.js';
import { isoAt } from './time.js';

// The payloads of the bus (schema.ts), built from the alarm and incident values the rest of
// rules/ keeps. Pure: the site's facts, the time and the sequence number come in.

export type Place = AlarmState['place'];

export interface EventSite {
  site: string;
  timeZone: string;
  /** Where a device is (building, floor, unit, room, in words). */
  place(deviceId: string): Place;
  /** A building, in words (an incident opened by hand for a building). */
  building(buildingId: string): Place;
}

/** Changes a consumer sees: pending alarms were shown to nobody, dropped ones never fired. */
export function publishedChange(type: AlarmEventType): AlarmChangeName | undefined {
  return (ALARM_CHANGES as readonly string[]).includes(type) ? (type as AlarmChangeName) : undefined;
}

export function alarmState(a: AlarmView, s: EventSite): AlarmState {
  const at = (ts: number | undefined) => (ts === undefined ? undefined : isoAt(ts, s.timeZone));
  const status = a.status === 'pending' ? 'firing' : a.status;
  return {
    v: EVENTS_VERSION,
    site: s.site,
    alarmId: a.id,
    kind: a.kind,
    title: { ...ALARM_KINDS[a.kind].title },
    severity: a.severity,
    status,
    deviceId: a.deviceId,
    place: s.place(a.deviceId),
    drill: a.drill ?? null,
    since: isoAt(a.since, s.timeZone),
    ...opt('raisedAt', at(a.raisedAt)),
    ...opt('clearedAt', at(a.clearedAt)),
    ...opt('closedAt', at(a.closedAt)),
    ...(a.ack ? { ack: { by: a.ack.by, at: isoAt(a.ack.at, s.timeZone), ...opt('comment', a.ack.comment) } } : {}),
    reopened: a.reopened,
    evidence: { ...a.evidence.text },
    inhibited: a.inhibitedBy !== undefined,
    silenced: a.silencedBy !== undefined,
  };
}

/** The incident as a head-office console needs it: steps and tasks with their deadlines and whether they are overdue at `now`. */
export function incidentState(inc: Incident, pb: Playbook, now: number, s: EventSite): IncidentState {
  const at = (ts: number | undefined) => (ts === undefined ? undefined : isoAt(ts, s.timeZone));
  const end = inc.closedAt ?? now;
  const escalatedTo = (levels: number): DutyRole[] => pb.escalation.slice(0, levels);
  const steps = pb.steps.map((step) => {
    const st = inc.steps[step.id] ?? { status: 'pending' as const, fields: {}, escalated: 0 };
    const due = step.deadline_min === undefined ? undefined : inc.raisedAt + step.deadline_min * 60_000;
    const open = !settled(st);
    return {
      step: step.id,
      title: { ...step.title },
      role: step.role,
      status: st.status,
      ...opt('dueAt', at(due)),
      ...opt('doneAt', at(st.doneAt)),
      overdue: open && (st.escalated > 0 || (due !== undefined && end >= due)),
      escalatedTo: escalatedTo(st.escalated),
    };
  });
  const tasks = taskStates(inc, pb, end, s);
  return {
    v: EVENTS_VERSION,
    site: s.site,
    incidentId: inc.id,
    playbook: inc.playbook,
    title: { ...inc.title },
    severity: inc.severity,
    status: inc.status,
    drill: inc.drill ?? null,
    raisedAt: isoAt(inc.raisedAt, s.timeZone),
    ...opt('raisedBy', inc.raisedBy),
    ...opt('deviceId', inc.deviceId),
    ...opt('place', inc.deviceId ? s.place(inc.deviceId) : inc.building ? s.building(inc.building) : undefined),
    ...opt('owner', inc.owner),
    ...opt('acknowledgedAt', at(inc.acknowledgedAt)),
    ...opt('closedAt', at(inc.closedAt)),
    alarms: inc.alarms.map((a) => ({
      alarmId: a.alarmId,
      ...opt('kind', a.kind),
      ...opt('deviceId', a.deviceId),
      cleared: a.cleared,
    })),
    steps,
    tasks,
    overdue: steps.filter((x) => x.overdue).length + tasks.filter((x) => x.overdue).length,
  };
}

/** Tasks (one per lift on a lost supply, …) with their own deadlines, timed from when each opened. */
function taskStates(inc: Incident, pb: Playbook, end: number, s: EventSite): IncidentState['tasks'] {
  const at = (ts: number | undefined) => (ts === undefined ? undefined : isoAt(ts, s.timeZone));
  return Object.entries(inc.tasks).map(([task, t]) => {
    const def = pb.tasks.find((d) => d.id === task || task.startsWith(`${d.id}:`));
    const due = def?.deadline_min === undefined ? undefined : t.openedAt + def.deadline_min * 60_000;
    return {
      task,
      title: { ...t.title },
      ...opt('deviceId', t.deviceId),
      done: t.done,
      openedAt: isoAt(t.openedAt, s.timeZone),
      ...opt('dueAt', at(due)),
      ...opt('doneAt', at(t.doneAt)),
      overdue: !t.done && ((t.escalated ?? 0) > 0 || (due !== undefined && end >= due)),
      escalatedTo: pb.escalation.slice(0, t.escalated ?? 0),
    };
  });
}

export function alarmEvent(
  seq: number,
  at: number,
  change: AlarmChangeName,
  alarm: AlarmState,
  tz: string,
): AlarmBusEvent {
  return {
    v: EVENTS_VERSION,
    site: alarm.site,
    seq,
    at: isoAt(at, tz),
    drill: alarm.drill,
    source: 'alarm',
    change,
    alarm,
  };
}

/** One incident event; `text` is the timeline's words for it (rules/incidents/report.ts describeEvent). */
export function incidentEvent(
  seq: number,
  e: IncidentEvent,
  incident: IncidentState,
  text: { zh: string; en: string },
  tz: string,
): IncidentBusEvent {
  return {
    v: EVENTS_VERSION,
    site: incident.site,
    seq,
    at: isoAt(e.at, tz),
    drill: incident.drill,
    source: 'incident',
    incidentId: incident.incidentId,
    type: e.type,
    text: { ...text },
    to: addressedTo(e),
    ...('step' in e && e.step !== undefined ? { step: e.step } : {}),
    ...('task' in e && e.task !== undefined ? { task: e.task } : {}),
    ...('level' in e ? { level: e.level } : {}),
    incident,
  };
}

export function siteStatus(
  site: string,
  state: SiteStatus['state'],
  at: number,
  tz: string,
  firstSeq?: number,
): SiteStatus {
  return { v: EVENTS_VERSION, site, state, at: isoAt(at, tz), ...opt('firstSeq', firstSeq) };
}

/** The roles an event is addressed to: an escalation's level, an alert's roles, a notification attempt's role. */
function addressedTo(e: IncidentEvent): DutyRole[] {
  if (e.type === 'escalated' || e.type === 'task_escalated' || e.type === 'notification') return [e.to];
  if (e.type === 'alerted') return [...e.to];
  return [];
}

function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
