import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parse } from 'yaml';
import { expect } from 'vitest';
import { loadPlaybooks } from '../../../gateway/incidents/playbooks.js';
import type { Alarm } from '../../alarms/lifecycle.js';
import type { FieldValue } from '../../model/reading.js';
import type { DeviceFacts, SiteFacts } from '../../site-facts.js';
import { fold, IncidentError, type Incident, type IncidentEvent } from '../incident.js';
import type { EvidenceClause, EvidenceCondition, FieldTest } from '../playbook.js';
import { Replay, type ReplayOptions } from '../replay.js';
import { feeds } from '../topology.js';

// Test support for the emergency invariants (one property per file beside this one): random
// worlds where devices report (or go dark) in any order, power is lost and back, lifts trap
// people and free them, leaks, pumps, people acknowledge, work down playbooks, open incidents
// by hand, drills start and stop — all in virtual time through the real rule engine and
// incident board (Replay). fast-check shrinks a failure to a short counterexample and prints
// the seed to replay it (INVARIANT_SEED=… INVARIANT_PATH=…). INVARIANT_RUNS sets the runs per
// property (1,000 by default, as in CI).

const RUNS = Number(process.env.INVARIANT_RUNS ?? 1000);
const SEED = process.env.INVARIANT_SEED ? Number(process.env.INVARIANT_SEED) : undefined;
const PATH = process.env.INVARIANT_PATH;
/** Time allowed per property: about 25 ms a world here, with a wide margin for slow machines. */
export const TIMEOUT_MS = 60_000 + RUNS * 150;
export const params = { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}), ...(PATH ? { path: PATH } : {}) };

const site = parse(readFileSync(fileURLToPath(new URL('../testcases/site.yaml', import.meta.url)), 'utf8')) as {
  site: string;
  timezone: string;
  devices: (Omit<DeviceFacts, 'vacant'> & { vacant?: boolean })[];
};
export const facts: SiteFacts = {
  site: site.site,
  timezone: site.timezone,
  devices: new Map(site.devices.map((d) => [d.id, { vacant: false, ...d }])),
};
export const playbooks = loadPlaybooks();
export const ALERT_ROLES = ['duty_manager', 'engineering_manager'] as const;
export const START = Date.parse('2026-12-01T10:00:00+08:00');
export const PEOPLE = ['duty', 'guard'];

const ids = (kind: string) => [...facts.devices.values()].filter((d) => d.kind === kind).map((d) => d.id);
export const LIFTS = ids('lift');
export const METERS = ids('electricity_meter');
export const LEAKS = ids('leak_sensor');
export const PUMPS = ids('pump');
export const ALL = [...facts.devices.keys()];

export const LIFT_STATES: Record<string, Record<string, FieldValue>> = {
  level_closed: {
    floor: 1,
    direction: 'stopped',
    in_door_zone: true,
    door: 'closed',
    occupied: false,
    alarm_button: false,
    mode: 'normal',
    fault_code: 0,
  },
  level_open: {
    floor: 3,
    direction: 'stopped',
    in_door_zone: true,
    door: 'open',
    occupied: true,
    alarm_button: false,
    mode: 'normal',
    fault_code: 0,
  },
  moving: {
    floor: 5,
    direction: 'up',
    in_door_zone: false,
    door: 'closed',
    occupied: true,
    alarm_button: false,
    mode: 'normal',
    fault_code: 0,
  },
  trapped_between: {
    floor: 7,
    direction: 'stopped',
    in_door_zone: false,
    door: 'closed',
    occupied: true,
    alarm_button: false,
    mode: 'normal',
    fault_code: 0,
  },
  shut_in_at_floor: {
    floor: 2,
    direction: 'stopped',
    in_door_zone: true,
    door: 'closed',
    occupied: true,
    alarm_button: false,
    mode: 'normal',
    fault_code: 0,
  },
  stuck_with_fault: {
    floor: 4,
    direction: 'stopped',
    in_door_zone: true,
    door: 'open',
    occupied: false,
    alarm_button: false,
    mode: 'normal',
    fault_code: 30,
  },
  alarm_button: {
    floor: 9,
    direction: 'stopped',
    in_door_zone: false,
    door: 'closed',
    occupied: true,
    alarm_button: true,
    mode: 'normal',
    fault_code: 0,
  },
  inspection: {
    floor: 1,
    direction: 'stopped',
    in_door_zone: true,
    door: 'open',
    occupied: false,
    alarm_button: false,
    mode: 'inspection',
    fault_code: 0,
  },
  door_open_moving: {
    floor: 6,
    direction: 'down',
    in_door_zone: false,
    door: 'open',
    occupied: true,
    alarm_button: false,
    mode: 'normal',
    fault_code: 0,
  },
};
const V = (v: number) => ({ voltage_l1_v: v, voltage_l2_v: v, voltage_l3_v: v });

export type Act =
  | { t: 'wait'; s: number }
  | { t: 'lift'; id: string; state: string }
  | { t: 'power'; id: string; on: boolean }
  | { t: 'leak'; id: string; wet: boolean }
  | { t: 'pump'; id: string; state: 'running' | 'stopped' | 'failed' }
  | { t: 'dark'; id: string }
  /** Back to normal: a lift level and empty, power on, dry, a pump running. */
  | { t: 'normal'; id: string }
  | { t: 'ack'; pick: number }
  /** work: the next steps in order, up to `steps` of them, stopping at one the sensors can close when `patient`. */
  | {
      t: 'person';
      pick: number;
      what: 'acknowledge' | 'task' | 'step' | 'work' | 'close';
      who: number;
      steps: number;
      patient: boolean;
    }
  /** Off for `offS`, back for `onS`, off again: a supply that flickers, a car trapped again. */
  | { t: 'flicker'; id: string; offS: number; onS: number }
  | { t: 'raise'; playbook: string; building: string | null }
  | { t: 'drill_start'; scope: string[] }
  | { t: 'drill_stop' };

/** Mostly one device of a kind, so that what happens to it builds up (trapped, freed, checked); sometimes any. */
const device = (ids: string[]) =>
  fc.oneof({ weight: 3, arbitrary: fc.constant(ids[0]!) }, { weight: 2, arbitrary: fc.constantFrom(...ids) });

const act: fc.Arbitrary<Act> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('wait' as const), s: fc.integer({ min: 1, max: 40 }) }) },
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant('lift' as const),
      id: device(LIFTS),
      state: fc.constantFrom(...Object.keys(LIFT_STATES)),
    }),
  },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('power' as const), id: device(METERS), on: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('leak' as const), id: device(LEAKS), wet: fc.boolean() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('pump' as const),
      id: device(PUMPS),
      state: fc.constantFrom('running' as const, 'stopped' as const, 'failed' as const),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('dark' as const), id: fc.constantFrom(...ALL) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('normal' as const),
      id: fc.oneof(device(LIFTS), device(METERS), device(LEAKS), device(PUMPS)),
    }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('ack' as const), pick: fc.nat() }) },
  // People act on an open incident (newest first, so mostly on what just happened).
  {
    weight: 8,
    arbitrary: fc.record({
      t: fc.constant('person' as const),
      pick: fc.nat({ max: 3 }),
      what: fc.constantFrom(
        'acknowledge' as const,
        'task' as const,
        'step' as const,
        'work' as const,
        'work' as const,
        'work' as const,
        'close' as const,
      ),
      who: fc.nat({ max: 1 }),
      steps: fc.integer({ min: 1, max: 8 }),
      patient: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('flicker' as const),
      id: fc.oneof(device(METERS), device(LIFTS), device(LEAKS)),
      offS: fc.integer({ min: 1, max: 60 }),
      onS: fc.oneof(
        { weight: 3, arbitrary: fc.integer({ min: 1, max: 60 }) },
        { weight: 1, arbitrary: fc.integer({ min: 590, max: 620 }) },
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('raise' as const),
      playbook: fc.constantFrom('power_cut', 'trapped_lift', 'water_leak'),
      building: fc.constantFrom('t1', 't2', null),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('drill_start' as const), scope: fc.subarray(ALL, { minLength: 1 }) }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('drill_stop' as const) }) },
);
/** Most worlds open with an emergency already under way (or not), then anything can happen. */
const opening: fc.Arbitrary<Act[]> = fc.oneof(
  fc.constant<Act[]>([]),
  device(LIFTS).map((id): Act[] => [
    { t: 'lift', id, state: 'trapped_between' },
    { t: 'wait', s: 25 },
  ]),
  device(LIFTS).map((id): Act[] => [
    { t: 'lift', id, state: 'door_open_moving' },
    { t: 'wait', s: 3 },
  ]),
  device(METERS).map((id): Act[] => [
    { t: 'power', id, on: false },
    { t: 'wait', s: 5 },
  ]),
  device(LEAKS).map((id): Act[] => [
    { t: 'leak', id, wet: true },
    { t: 'wait', s: 10 },
  ]),
);
export const world = fc
  .tuple(opening, fc.array(act, { minLength: 1, maxLength: 60, size: 'medium' }))
  .map(([o, rest]) => [...o, ...rest]);

/** A world run: the replay, what each device is reporting, which drills ran when, and checks run after every action. */
export class World {
  readonly r: Replay;
  /** What each reporting device sends every interval (absent: dark). */
  readonly reporting = new Map<string, Record<string, FieldValue>>();
  /** Drills as they ran, from and to given as positions in the stream of alarm changes (several things happen in one ms). */
  readonly drills: {
    id: string;
    scope: Set<string>;
    from: number;
    to?: number;
    startedAt: number;
    stoppedAt?: number;
  }[] = [];
  private drillNo = 0;

  constructor(options: Pick<ReplayOptions, 'changedFirst'> = {}) {
    this.r = new Replay({ facts, playbooks, alertRoles: [...ALERT_ROLES], start: START, ...options });
    // Everything reports normally at first.
    for (const id of METERS) this.reporting.set(id, V(221));
    for (const id of LIFTS) this.reporting.set(id, LIFT_STATES.level_closed!);
    for (const id of LEAKS) this.reporting.set(id, { wet: false });
    for (const id of PUMPS) this.reporting.set(id, { running: false, run_command: false, fault: false });
    this.reporting.set('t1-sump-level', { level_pct: 20, high_float: false });
    this.wait(5);
  }

  run(a: Act): void {
    const r = this.r;
    switch (a.t) {
      case 'wait':
        return this.wait(a.s);
      case 'lift':
        return this.report(a.id, LIFT_STATES[a.state]!);
      case 'power':
        return this.report(a.id, V(a.on ? 221 : 0));
      case 'leak':
        return this.report(a.id, { wet: a.wet });
      case 'pump':
        return this.report(
          a.id,
          a.state === 'running'
            ? { running: true, run_command: true, fault: false }
            : a.state === 'stopped'
              ? { running: false, run_command: false, fault: false }
              : { running: false, run_command: true, fault: true, alarm_code: 51 },
        );
      case 'dark':
        this.reporting.delete(a.id);
        return;
      case 'normal': {
        const kind = facts.devices.get(a.id)!.kind;
        return this.report(
          a.id,
          kind === 'lift'
            ? LIFT_STATES.level_closed!
            : kind === 'leak_sensor'
              ? { wet: false }
              : kind === 'pump'
                ? { running: true, run_command: true, fault: false }
                : V(221),
        );
      }
      case 'flicker': {
        const kind = facts.devices.get(a.id)!.kind;
        const [bad, good] =
          kind === 'lift'
            ? [LIFT_STATES.trapped_between!, LIFT_STATES.level_open!]
            : kind === 'leak_sensor'
              ? [{ wet: true }, { wet: false }]
              : [V(0), V(221)];
        this.report(a.id, bad);
        this.wait(a.offS);
        this.report(a.id, good);
        this.wait(a.onS);
        this.report(a.id, bad);
        return;
      }
      case 'ack': {
        const open = r.engine.active().filter((x) => !x.ack);
        if (open.length) r.acknowledgeAlarm(open[a.pick % open.length]!.id, PEOPLE[a.pick % 2]!);
        return;
      }
      case 'person': {
        const open = r.board.list({ status: 'open' });
        if (!open.length) return;
        const inc = open[a.pick % open.length]!;
        const pb = playbooks.byId.get(inc.playbook)!;
        const by = PEOPLE[a.who]!;
        try {
          if (a.what === 'acknowledge') r.command(inc.id, { type: 'acknowledge', by });
          if (a.what === 'close') r.command(inc.id, { type: 'close', by });
          if (a.what === 'task') {
            const tasks = Object.keys(inc.tasks);
            if (tasks.length) r.command(inc.id, { type: 'complete_task', task: tasks[a.pick % tasks.length]!, by });
          }
          const complete = (step: (typeof pb.steps)[number]) => {
            const fields = Object.fromEntries(
              step.record
                .filter((f) => f.required)
                .map((f) => [
                  f.name,
                  f.type === 'number'
                    ? 1
                    : f.type === 'bool'
                      ? false
                      : f.type === 'time'
                        ? new Date(r.now).toISOString()
                        : 'x',
                ]),
            );
            r.command(inc.id, { type: 'complete_step', step: step.id, by, fields });
          };
          if (a.what === 'step') complete(pb.steps[a.pick % pb.steps.length]!);
          // As a duty engineer works down the playbook; a patient one leaves to the sensors what they can close.
          for (let k = 0; a.what === 'work' && k < a.steps; k++) {
            const next = pb.steps.find((x) => r.board.get(inc.id).incident.steps[x.id]?.status !== 'done');
            if (!next || (a.patient && next.evidence)) break;
            complete(next);
          }
        } catch (err) {
          if (!(err instanceof IncidentError)) throw err; // a refusal records nothing: fine
        }
        return;
      }
      case 'raise':
        r.raise({ by: 'duty', playbook: a.playbook, ...(a.building ? { building: a.building } : {}) });
        return;
      case 'drill_start': {
        if (r.runningDrill) return;
        const d = {
          id: `drill-${++this.drillNo}`,
          scope: new Set(a.scope),
          from: r.alarmChanges.length,
          startedAt: r.now,
        };
        this.drills.push(d);
        r.startDrill(d.id, d.scope);
        return;
      }
      case 'drill_stop': {
        const d = this.drills.at(-1);
        if (!r.runningDrill || !d) return;
        d.to = r.alarmChanges.length;
        d.stoppedAt = r.now;
        r.stopDrill();
        return;
      }
    }
  }

  /** Time passes second by second; each reporting device sends its state on its interval. */
  private wait(seconds: number): void {
    for (let k = 0; k < seconds; k++) {
      this.r.advanceTo(this.r.now + 1000);
      const s = Math.round((this.r.now - START) / 1000);
      for (const [id, fields] of this.reporting)
        if (s % facts.devices.get(id)!.intervalS === 0) this.r.read(id, fields);
    }
  }

  /** A device changes state: it reports at once, and then on its interval. */
  private report(id: string, fields: Record<string, FieldValue>): void {
    this.reporting.set(id, fields);
    this.r.read(id, fields);
  }

  /** The drill running when the n-th alarm change was made. */
  drillAt(n: number): { id: string; scope: Set<string> } | undefined {
    return this.drills.find((d) => d.from <= n && (d.to === undefined || n < d.to));
  }
}

/** Runs a world, calling `check` after every action. */
export function play(acts: Act[], check: (w: World) => void, options: Pick<ReplayOptions, 'changedFirst'> = {}): World {
  const w = new World(options);
  for (const a of acts) {
    w.run(a);
    check(w);
  }
  return w;
}

export const alarmsById = (w: World) => {
  const byId = new Map<string, Alarm>();
  for (const c of w.r.alarmChanges) byId.set(c.alarm.id, c.alarm);
  return byId;
};

/** The condition and devices a sensor claim rests on. */
export function claimed(inc: Incident, e: IncidentEvent): { condition: EvidenceCondition; devices: DeviceFacts[] } {
  if (e.type === 'task_done') {
    const t = inc.tasks[e.task]!;
    return { condition: playbooks.conditions.get(t.condition!)!, devices: [facts.devices.get(t.deviceId!)!] };
  }
  const step = playbooks.byId.get(inc.playbook)!.steps.find((s) => 'step' in e && s.id === e.step)!;
  const condition = playbooks.conditions.get(step.evidence!.condition)!;
  const fits = (d: DeviceFacts | undefined): d is DeviceFacts => d !== undefined && d.kind === condition.kind;
  const ofAlarms = [...new Set(inc.alarms.map((a) => a.deviceId))].map((id) => facts.devices.get(id!)).filter(fits);
  return {
    condition,
    devices: ofAlarms.length
      ? ofAlarms
      : [...facts.devices.values()].filter((d) => d.building === inc.building && fits(d)),
  };
}

/**
 * Written apart from the board's own code: from the readings the device sent before the claim, did the
 * condition hold at every second of the hold time before `at` on readings fresh at that second,
 * and did every reading in that time show it?
 */
export function heldOnFreshReadings(
  readings: Replay['readings'],
  cond: EvidenceCondition,
  d: DeviceFacts,
  at: number,
): boolean {
  const mine = readings.filter((x) => x.deviceId === d.id);
  const from = at - cond.hold_s * 1000;
  const state = (t: number) => {
    const fields = new Map<string, { value: FieldValue; ts: number }>();
    for (const x of mine)
      if (x.ts <= t) for (const [k, v] of Object.entries(x.fields)) fields.set(k, { value: v, ts: x.ts });
    return fields;
  };
  const test = (f: FieldTest, fields: Map<string, { value: FieldValue; ts: number }>, t: number) => {
    const v = fields.get(f.field);
    if (!v) return f.missing_ok;
    if (v.ts < t - cond.fresh_intervals * d.intervalS * 1000) return false;
    if (f.equals !== undefined && v.value !== f.equals) return false;
    if (f.below !== undefined && !(typeof v.value === 'number' && v.value <= f.below)) return false;
    if (f.above !== undefined && !(typeof v.value === 'number' && v.value >= f.above)) return false;
    return true;
  };
  const holds = (t: number) => {
    const fields = state(t);
    return cond.all.every((c: EvidenceClause) =>
      'any' in c ? c.any.some((f) => test(f, fields, t)) : test(c, fields, t),
    );
  };
  for (let t = from; t <= at; t += 1000) if (!holds(t)) return false;
  return mine.filter((x) => x.ts >= from).every((x) => holds(x.ts));
}

/**
 * After a second loss on an open incident (an alarm of it firing again, or another supply
 * alarm joining), no lift that loss feeds shows a check done before it — unless another loss
 * of the incident (or the building a person named) still held that lift dark.
 */
export function checkRecheckedAfterSecondLoss(inc: Incident): void {
  const pb = playbooks.byId.get(inc.playbook)!;
  const supply = (kind: string | undefined) => kind !== undefined && (pb.opened_by as string[]).includes(kind);
  inc.timeline.forEach((e, n) => {
    if (n === 0) return;
    const loss = e.type === 'alarm_refired' || (e.type === 'alarm_attached' && supply(e.kind)) ? e.alarmId : undefined;
    if (loss === undefined) return;
    const before = fold(inc.timeline.slice(0, n), pb);
    const lost = inc.alarms.find((a) => a.alarmId === loss)!;
    if (!supply(lost.kind)) return;
    // The incident once everything decided at that moment was applied.
    const end = inc.timeline.findIndex(
      (x, i) => i > n && (x.at !== e.at || x.type === 'task_done' || x.type === 'step_done'),
    );
    const after = fold(inc.timeline.slice(0, end === -1 ? undefined : end), pb);
    const manual = before.raisedBy !== undefined && !before.alarms.some((a) => supply(a.kind));
    const otherLost = before.alarms.filter((a) => a.alarmId !== loss && !a.cleared && supply(a.kind));
    for (const lift of LIFTS) {
      if (!feeds(facts, lost.deviceId!, lift)) continue;
      if (manual && (before.building === undefined || facts.devices.get(lift)!.building === before.building)) continue;
      if (otherLost.some((a) => feeds(facts, a.deviceId!, lift))) continue;
      const t = after.tasks[`check_lift:${lift}`];
      expect(
        t && !(t.done && t.doneAt! < e.at),
        `${inc.id}: ${lift} still shows a check done before the loss at ${e.at - START} ms`,
      ).toBe(true);
    }
  });
}
