import type { Alarm, AlarmEventType } from '../alarms/lifecycle.js';
import type { AlarmKind } from '../alarms/kinds.js';
import type { Incident } from './incident.js';
import { DEFAULT_ACK_TARGET_S, type Playbook, type Step } from './playbook.js';

// The drill report: what was injected and when (planned against actual), whether each
// expected alarm came in time, and how the duty room answered — every critical alarm's
// acknowledgement, every playbook step and every task (the check of each lift on a lost
// supply) of the drill's incidents against its target (DOMAIN.md §4: drills are scored per
// step, planned vs actual). Built from plain records so it reads the same live (the
// scorecard) and at the end.
//
// A drill scores people. What the sensors closed by themselves (a valve the scenario shuts,
// a lift that comes back level and empty) says nothing about the team, so it is its own
// outcome, `sensor`, shown apart and never counted as on time (issue 17: the vacant-unit
// drill's valve step was "met" whatever the trainees did).

type Text = { zh: string; en: string };

export interface DrillFacts {
  id: string;
  scenario: string;
  title: Text;
  status: string;
  startedAt: number;
  endedAt?: number;
  startedBy: string;
  log: { at: number; plannedAt: number; what: Text }[];
  expects: { alarms: { kind: string; device: string; dueBy: number | null }[] };
}

/**
 * met: done by a person within its target; sensor: closed by the sensors, not a person;
 * late: done by a person after its target; missed: past its target and not done, or not
 * done when the drill ended (its incident closed). null: still open and not due yet (or,
 * for what has no target, not done: nothing to miss).
 */
export type Outcome = 'met' | 'sensor' | 'late' | 'missed';
export const OUTCOMES: readonly Outcome[] = ['met', 'sensor', 'late', 'missed'];

/** Outcomes of what has a target. `open`: not decided yet (only while the drill runs). */
export type Tally = Record<Outcome, number> & { open: number; total: number };

/** One episode of a critical alarm of the drill (an alarm that fires again must be acknowledged again). */
export interface AckEpisode {
  alarmId: string;
  kind: AlarmKind;
  device: string;
  raisedAt: number;
  acknowledgedAt?: number;
  by?: string;
}

export interface DrillReport extends Pick<
  DrillFacts,
  'id' | 'scenario' | 'title' | 'status' | 'startedAt' | 'endedAt' | 'startedBy'
> {
  injected: { at: number; lateS: number; what: Text }[];
  alarms: { kind: string; device: string; dueBy: number | null; raisedAt: number | null; met: boolean | null }[];
  /** Each critical alarm of the drill, each time it fired: how long until someone acknowledged it. */
  acks: {
    alarmId: string;
    kind: string;
    device: string;
    incident?: string;
    raisedAt: number;
    acknowledgedAt: number | null;
    by?: string;
    ackAfterS: number | null;
    targetS: number;
    outcome: Outcome | null;
  }[];
  /** `skipped`: the step does not apply here (why): not scored. */
  responses: {
    incident: string;
    playbook: string;
    step: string;
    title: Text;
    targetMin?: number;
    doneAfterMin?: number;
    by?: string;
    recordedBy?: string;
    skipped?: Text;
    outcome: Outcome | null;
  }[];
  /** Tasks the alarms spawned (one per lift on a lost supply…), each against its own deadline from when it was opened or re-opened. */
  tasks: {
    incident: string;
    playbook: string;
    task: string;
    title: Text;
    deviceId?: string;
    openedAt: number;
    reopened: number;
    targetMin?: number;
    doneAfterMin?: number;
    by?: string;
    outcome: Outcome | null;
  }[];
  score: { alarmsInTime: number; alarmsExpected: number; acks: Tally; steps: Tally; tasks: Tally };
}

/** An alarm change as the journal keeps it (rules/engine AlarmChange, gateway JournalEntry). */
export interface AlarmChangeLike {
  type: AlarmEventType;
  at: number;
  /**
   * The alarm the change is about, when known (the engine's event). The alarm carried is the
   * one after the whole transition: when an alarm of another drill (or real life) is closed
   * and a new one starts in one step, the close comes with the new alarm.
   */
  alarmId?: string;
  alarm: Pick<
    Alarm,
    'id' | 'kind' | 'deviceId' | 'severity' | 'status' | 'drill' | 'raisedAt' | 'ack' | 'earlierAcks' | 'reopened'
  >;
}

/**
 * The episodes of the drill's critical alarms, from the alarm changes in order: each firing
 * or re-firing starts one, the first acknowledgement after it answers it (invariant I2: each
 * episode is acknowledged).
 */
export function criticalEpisodes(changes: Iterable<AlarmChangeLike>, drillId: string): AckEpisode[] {
  const out: AckEpisode[] = [];
  /** Alarm id → its episode still waiting for an answer (null: one we cannot place). */
  const current = new Map<string, AckEpisode | null>();
  for (const c of changes) {
    const a = c.alarm;
    // Pending (or dropped before firing) is not yet an alarm anyone must answer.
    if (a.drill !== drillId || a.severity !== 'critical' || c.type === 'pending' || c.type === 'dropped') continue;
    if (c.alarmId !== undefined && c.alarmId !== a.id) continue;
    if (c.type === 'firing' || c.type === 'reopened') {
      const ep: AckEpisode = { alarmId: a.id, kind: a.kind, device: a.deviceId, raisedAt: c.at };
      out.push(ep);
      current.set(a.id, ep);
    } else if (!current.has(a.id)) {
      // A restarted gateway keeps each alarm's latest state only: its first episode is still
      // known from it (when it fired, and who answered it); later ones are not.
      // (A close carrying an alarm that is not closed is another alarm's: see AlarmChangeLike.)
      if (a.raisedAt === undefined || a.status === 'pending' || (c.type === 'closed' && a.status !== 'closed'))
        continue;
      const ack = a.reopened === 0 ? a.ack : a.earlierAcks?.[0];
      const ep: AckEpisode = {
        alarmId: a.id,
        kind: a.kind,
        device: a.deviceId,
        raisedAt: a.raisedAt,
        ...(ack ? { acknowledgedAt: ack.at, by: ack.by } : {}),
      };
      out.push(ep);
      current.set(a.id, a.reopened === 0 && !ack ? ep : null);
    } else if (c.type === 'acknowledged') {
      const ep = current.get(a.id);
      if (ep && ep.acknowledgedAt === undefined) {
        ep.acknowledgedAt = c.at;
        if (a.ack) ep.by = a.ack.by;
      }
    }
  }
  return out;
}

/**
 * The outcome of one thing to do with a clock starting at `from`. Only what happened by
 * `endAt` counts: after the drill ended nothing more is the drill's.
 */
export function outcomeOf(o: {
  from: number;
  targetMs: number | undefined;
  doneAt: number | undefined;
  bySensor: boolean;
  ended: boolean;
  endAt: number;
}): Outcome | null {
  const done = o.doneAt !== undefined && o.doneAt <= o.endAt;
  if (done && o.bySensor) return 'sensor';
  if (o.targetMs === undefined) return done ? 'met' : null;
  if (done) return o.doneAt! - o.from <= o.targetMs ? 'met' : 'late';
  return o.ended || o.endAt - o.from > o.targetMs ? 'missed' : null;
}

function tally(rows: readonly { outcome: Outcome | null }[]): Tally {
  const t: Tally = { met: 0, sensor: 0, late: 0, missed: 0, open: 0, total: rows.length };
  for (const r of rows) {
    if (r.outcome === null) t.open++;
    else t[r.outcome]++;
  }
  return t;
}

const minutes = (ms: number) => Math.round(ms / 6000) / 10;

/**
 * `raised`: when each (kind, device) alarm of this drill first fired; `episodes`: its critical
 * alarms' episodes (criticalEpisodes). An incident's playbook gives the step deadlines, the
 * tasks' deadlines and the acknowledgement target of the critical alarms it holds.
 */
export function drillReport(
  drill: DrillFacts,
  raised: ReadonlyMap<string, number>,
  episodes: readonly AckEpisode[],
  incidents: readonly Incident[],
  playbookOf: (id: string) => Playbook | undefined,
  now: number,
): DrillReport {
  const alarms = expectedAlarms(drill, raised, now);
  const drillEnd = drill.endedAt !== undefined ? Math.min(drill.endedAt, now) : now;
  const mine = incidents.filter((i) => i.drill === drill.id);
  const acks = episodes.map((ep) => ackRow(ep, drill, drillEnd, mine, playbookOf));
  const responses: DrillReport['responses'] = [];
  const tasks: DrillReport['tasks'] = [];
  for (const inc of mine) {
    const playbook = playbookOf(inc.playbook);
    // A drill's incidents close when it ends: what is still open then was missed then, not later.
    const until: Until = {
      ended: inc.closedAt !== undefined || drill.endedAt !== undefined,
      endAt: Math.min(inc.closedAt ?? Infinity, drillEnd),
    };
    for (const s of playbook?.steps ?? []) responses.push(stepRow(inc, s, until));
    for (const [id, t] of Object.entries(inc.tasks)) tasks.push(taskRow(inc, playbook, id, t, until));
  }
  const timed = <T extends { targetMin?: number; skipped?: Text }>(rows: T[]) =>
    rows.filter((r) => r.targetMin !== undefined && r.skipped === undefined);
  return {
    id: drill.id,
    scenario: drill.scenario,
    title: drill.title,
    status: drill.status,
    startedAt: drill.startedAt,
    ...(drill.endedAt !== undefined ? { endedAt: drill.endedAt } : {}),
    startedBy: drill.startedBy,
    injected: drill.log.map((l) => ({ at: l.at, lateS: Math.round((l.at - l.plannedAt) / 1000), what: l.what })),
    alarms,
    acks,
    responses,
    tasks,
    score: {
      alarmsInTime: alarms.filter((a) => a.met === true).length,
      alarmsExpected: alarms.length,
      acks: tally(acks),
      steps: tally(timed(responses)),
      tasks: tally(timed(tasks)),
    },
  };
}

/** Whether the incident's work is judged as ended (a drill's incidents close when it ends), and when. */
interface Until {
  ended: boolean;
  endAt: number;
}

function expectedAlarms(drill: DrillFacts, raised: ReadonlyMap<string, number>, now: number): DrillReport['alarms'] {
  return drill.expects.alarms.map((e) => {
    const raisedAt = raised.get(`${e.kind}|${e.device}`) ?? null;
    const met =
      raisedAt !== null ? e.dueBy === null || raisedAt <= e.dueBy : e.dueBy !== null && now > e.dueBy ? false : null;
    return { kind: e.kind, device: e.device, dueBy: e.dueBy, raisedAt, met };
  });
}

function ackRow(
  ep: AckEpisode,
  drill: DrillFacts,
  drillEnd: number,
  mine: readonly Incident[],
  playbookOf: (id: string) => Playbook | undefined,
): DrillReport['acks'][number] {
  const inc = mine.find((i) => i.alarms.some((a) => a.alarmId === ep.alarmId));
  const targetS = (inc && playbookOf(inc.playbook)?.ack_target_s) ?? DEFAULT_ACK_TARGET_S;
  // An acknowledgement after the drill ended is not the drill's.
  const ackAt = ep.acknowledgedAt !== undefined && ep.acknowledgedAt <= drillEnd ? ep.acknowledgedAt : undefined;
  return {
    alarmId: ep.alarmId,
    kind: ep.kind,
    device: ep.device,
    ...(inc ? { incident: inc.id } : {}),
    raisedAt: ep.raisedAt,
    acknowledgedAt: ackAt ?? null,
    ...(ackAt !== undefined && ep.by ? { by: ep.by } : {}),
    ackAfterS: ackAt !== undefined ? Math.round((ackAt - ep.raisedAt) / 100) / 10 : null,
    targetS,
    outcome: outcomeOf({
      from: ep.raisedAt,
      targetMs: targetS * 1000,
      doneAt: ackAt,
      bySensor: false,
      ended: drill.endedAt !== undefined,
      endAt: drillEnd,
    }),
  };
}

function stepRow(inc: Incident, s: Step, { ended, endAt }: Until): DrillReport['responses'][number] {
  const st = inc.steps[s.id];
  // A step that does not apply (no evening trading, not a planned outage) is nobody's to miss.
  if (st?.status === 'skipped') {
    return {
      incident: inc.id,
      playbook: inc.playbook,
      step: s.id,
      title: s.title,
      ...(s.deadline_min !== undefined ? { targetMin: s.deadline_min } : {}),
      ...(st.skipped ? { skipped: st.skipped } : {}),
      outcome: null,
    };
  }
  // The sensors saw the water stop after a person closed the valve from the incident and the
  // valve read back closed: the person did the step, when the command was confirmed.
  const command =
    st?.status === 'done' && st.evidence !== undefined
      ? inc.timeline.find(
          (e) => e.type === 'device_command' && e.outcome === 'confirmed' && e.step === s.id && e.at <= st.doneAt!,
        )
      : undefined;
  const personBy = command?.type === 'device_command' ? command.by : undefined;
  const doneAt = command ? command.at : st?.status === 'done' ? st.doneAt : undefined;
  const bySensor = !command && (st?.evidence !== undefined || st?.by === 'sensor');
  return {
    incident: inc.id,
    playbook: inc.playbook,
    step: s.id,
    title: s.title,
    ...(s.deadline_min !== undefined ? { targetMin: s.deadline_min } : {}),
    ...(doneAt !== undefined ? { doneAfterMin: minutes(doneAt - inc.raisedAt) } : {}),
    ...(doneAt !== undefined && (personBy ?? st?.by) ? { by: personBy ?? st!.by! } : {}),
    ...(st?.recordedBy ? { recordedBy: st.recordedBy } : {}),
    outcome: outcomeOf({
      from: inc.raisedAt,
      targetMs: s.deadline_min !== undefined ? s.deadline_min * 60_000 : undefined,
      doneAt,
      bySensor,
      ended,
      endAt,
    }),
  };
}

function taskRow(
  inc: Incident,
  playbook: Playbook | undefined,
  id: string,
  t: Incident['tasks'][string],
  { ended, endAt }: Until,
): DrillReport['tasks'][number] {
  // Task ids are the definition's, or `definition:device` for one per device.
  const def = playbook?.tasks.find((d) => d.id === id || id.startsWith(`${d.id}:`));
  const doneAt = t.done ? t.doneAt : undefined;
  return {
    incident: inc.id,
    playbook: inc.playbook,
    task: id,
    title: t.title,
    ...(t.deviceId ? { deviceId: t.deviceId } : {}),
    openedAt: t.openedAt,
    reopened: t.reopened,
    ...(def?.deadline_min !== undefined ? { targetMin: def.deadline_min } : {}),
    ...(doneAt !== undefined ? { doneAfterMin: minutes(doneAt - t.openedAt) } : {}),
    ...(doneAt !== undefined && t.by ? { by: t.by } : {}),
    outcome: outcomeOf({
      from: t.openedAt,
      targetMs: def?.deadline_min !== undefined ? def.deadline_min * 60_000 : undefined,
      doneAt,
      bySensor: t.evidence !== undefined || t.by === 'sensor',
      ended,
      endAt,
    }),
  };
}
