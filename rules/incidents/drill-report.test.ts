import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { Alarm } from '../alarms/lifecycle.js';
import {
  criticalEpisodes,
  drillReport,
  OUTCOMES,
  type AlarmChangeLike,
  type DrillFacts,
  type DrillReport,
  type Outcome,
} from './drill-report.js';
import { fold, type Incident, type IncidentEvent } from './incident.js';
import { params, play, playbooks, START, TIMEOUT_MS, world } from './invariants/world.testing.js';
import { playbookSchema, type Playbook } from './playbook.js';

const load = (file: string) =>
  playbookSchema.parse(parse(readFileSync(fileURLToPath(new URL(`../playbooks/${file}`, import.meta.url)), 'utf8')));
const playbook = load('trapped-lift.yaml');
const powerCut = load('power-cut.yaml');
const T0 = Date.parse('2026-12-01T10:00:00Z');
const s = (sec: number) => T0 + sec * 1000;
const SAYS = { zh: '传感器显示', en: 'the sensors show it' };

const drill: DrillFacts = {
  id: 'drill-1',
  scenario: 'lift-entrapment',
  title: { zh: '电梯困人', en: 'Trapped lift' },
  status: 'running',
  startedAt: T0,
  startedBy: 'duty',
  log: [{ at: s(61), plannedAt: s(60), what: { zh: 'A梯困人', en: 'lift A stuck' } }],
  expects: {
    alarms: [
      { kind: 'lift_entrapment', device: 'lift-a', dueBy: s(120) },
      { kind: 'water_leak', device: 'leak-1', dueBy: s(90) },
      { kind: 'pump_failure', device: 'pump-1', dueBy: null },
    ],
  },
};

/** An alarm change as the journal records it: only what the score reads. */
function change(
  type: AlarmChangeLike['type'],
  sec: number,
  a: Partial<Alarm> & Pick<Alarm, 'id' | 'kind' | 'deviceId'>,
): AlarmChangeLike {
  return {
    type,
    at: s(sec),
    alarm: {
      severity: 'critical',
      status: type === 'cleared' ? 'cleared' : 'firing',
      drill: 'drill-1',
      reopened: 0,
      ...a,
    },
  };
}

const steps = (r: DrillReport) => Object.fromEntries(r.responses.map((x) => [x.step, x.outcome]));

describe('drill report', () => {
  it('scores alarms against their due times and each response step against its target, telling people from sensors', () => {
    const events: IncidentEvent[] = [
      {
        type: 'raised',
        incidentId: 'inc-1',
        playbook: 'trapped_lift',
        title: playbook.title,
        severity: 'critical',
        drill: 'drill-1',
        alarmId: 'lift_entrapment:lift-a:1',
        kind: 'lift_entrapment',
        deviceId: 'lift-a',
        at: s(85),
      },
      {
        type: 'step_done',
        step: 'confirm_location',
        by: 'duty',
        fields: { reported_at: 'x', car_floor: '7', passengers: 3 },
        at: s(100),
      },
      {
        type: 'step_done',
        step: 'comfort_passengers',
        by: 'guard',
        fields: { security_on_site_at: 'x' },
        at: s(85 + 240),
      },
    ];
    const real: IncidentEvent[] = [
      {
        type: 'raised',
        incidentId: 'inc-2',
        playbook: 'trapped_lift',
        title: playbook.title,
        severity: 'critical',
        at: s(90),
      },
    ];
    const raised = new Map([['lift_entrapment|lift-a', s(85)]]);
    const r = drillReport(drill, raised, [], [fold(events, playbook), fold(real, playbook)], () => playbook, s(400));
    expect(r.injected).toEqual([{ at: s(61), lateS: 1, what: { zh: 'A梯困人', en: 'lift A stuck' } }]);
    expect(r.alarms.map((a) => [a.kind, a.met])).toEqual([
      ['lift_entrapment', true],
      ['water_leak', false], // due at 90 s, never raised, now 400 s
      ['pump_failure', null], // its cause never came
    ]);
    expect(steps(r)).toMatchObject({
      confirm_location: 'met', // 15 s after, target 30 s
      comfort_passengers: 'late', // 4 min after, target 3 min
      call_maintenance: 'missed', // not done, 5 min 15 s in, target 3 min
      maintenance_arrived: null, // target 15 min: not due yet
      record_passengers: null, // no target, not done
    });
    expect(r.responses.every((x) => x.incident === 'inc-1')).toBe(true); // the real incident is not the drill's
    expect(r.score).toMatchObject({
      alarmsInTime: 1,
      alarmsExpected: 3,
      steps: { met: 1, sensor: 0, late: 1, missed: 1, open: 2, total: 5 },
    });

    // The drill ends with the steps not done: each step with a target has its outcome, none open.
    const ended = fold([...events, { type: 'closed', by: 'system', reason: 'drill_ended', at: s(420) }], playbook);
    const end = drillReport(
      { ...drill, status: 'stopped', endedAt: s(420) },
      raised,
      [],
      [ended],
      () => playbook,
      s(4000),
    );
    expect(steps(end)).toMatchObject({ maintenance_arrived: 'missed', rescue: 'missed', record_passengers: null });
    expect(end.score.steps).toEqual({ met: 1, sensor: 0, late: 1, missed: 3, open: 0, total: 5 });
  });

  it('a power cut: each lift check against its own deadline from when it opened; what the sensors closed is theirs, not the team’s', () => {
    const checkLift = powerCut.tasks.find((t) => t.id === 'check_lift')!;
    expect(checkLift.deadline_min).toBe(5);
    const title = (d: string) => ({ zh: `检查电梯 ${d}`, en: `Check lift ${d}` });
    const events: IncidentEvent[] = [
      {
        type: 'raised',
        incidentId: 'inc-1',
        playbook: 'power_cut',
        title: powerCut.title,
        severity: 'critical',
        drill: 'drill-1',
        alarmId: 'power_cut_external:t1-incomer:1',
        kind: 'power_cut_external',
        deviceId: 't1-incomer',
        at: s(0),
      },
      ...['a', 'b', 'c', 'd'].map((l): IncidentEvent => ({
        type: 'task_added',
        task: `check_lift:lift-${l}`,
        title: title(`lift-${l}`),
        deviceId: `lift-${l}`,
        condition: 'lift_safe',
        at: s(1),
      })),
      { type: 'step_done', step: 'planned_or_not', by: 'duty', fields: { planned: false }, at: s(120) },
      { type: 'task_done', task: 'check_lift:lift-a', by: 'sensor', evidence: SAYS, at: s(40) }, // the car came back level and empty by itself
      { type: 'task_done', task: 'check_lift:lift-b', by: 'guard', at: s(200) }, // checked in 3 min 19 s
      { type: 'task_done', task: 'check_lift:lift-c', by: 'guard', at: s(1 + 5 * 60 + 1) }, // a second late
      // A second cut re-opens lift b's check: its clock starts again.
      {
        type: 'task_reopened',
        task: 'check_lift:lift-b',
        reason: { zh: '再次失电', en: 'supply lost again' },
        at: s(500),
      },
      {
        type: 'step_done',
        step: 'power_restored',
        by: 'sensor',
        fields: { power_restored_at: 'x' },
        evidence: SAYS,
        at: s(600),
      },
      { type: 'step_done', step: 'power_restored', by: 'duty', fields: { power_restored_at: 'x' }, at: s(610) }, // a person adds the records: still the sensors'
      { type: 'task_added', task: 'post_check_cctv', title: { zh: '检查监控', en: 'Check CCTV' }, at: s(600) },
    ];
    const inc = fold(events, powerCut);
    const r = drillReport(drill, new Map(), [], [inc], () => powerCut, s(700));
    const tasks = Object.fromEntries(r.tasks.map((t) => [t.task, [t.outcome, t.targetMin ?? null]]));
    expect(tasks).toEqual({
      'check_lift:lift-a': ['sensor', 5],
      'check_lift:lift-b': [null, 5], // re-opened at 500 s, 200 s ago: not due yet
      'check_lift:lift-c': ['late', 5],
      'check_lift:lift-d': ['missed', 5],
      post_check_cctv: [null, null], // no deadline of its own
    });
    expect(r.tasks.find((t) => t.task === 'check_lift:lift-b')).toMatchObject({ openedAt: s(500), reopened: 1 });
    expect(r.tasks.find((t) => t.task === 'check_lift:lift-a')).toMatchObject({ by: 'sensor', doneAfterMin: 0.7 });
    expect(r.responses.find((x) => x.step === 'power_restored')).toMatchObject({
      outcome: 'sensor',
      by: 'sensor',
      recordedBy: 'duty',
    });
    expect(steps(r)).toMatchObject({
      planned_or_not: 'met',
      internal_or_external: 'missed',
      check_lifts: 'missed',
      notify_residents: null,
    });
    // A step that does not apply is nobody's to miss: shown with why, not scored.
    const skipped = fold(
      [
        ...events,
        {
          type: 'step_skipped',
          step: 'internal_or_external',
          reason: { zh: '不适用', en: 'does not apply' },
          at: s(2),
        },
      ],
      powerCut,
    );
    const withSkip = drillReport(drill, new Map(), [], [skipped], () => powerCut, s(700));
    expect(withSkip.responses.find((x) => x.step === 'internal_or_external')).toMatchObject({
      outcome: null,
      skipped: { en: 'does not apply' },
    });
    expect(withSkip.score.steps.total).toBe(r.score.steps.total - 1);
    // The team's score counts only what people did on time; the sensors' part is shown apart.
    expect(r.score.tasks).toEqual({ met: 0, sensor: 1, late: 1, missed: 1, open: 1, total: 4 });
    expect(r.score.steps.met).toBe(1);
    expect(r.score.steps.sensor).toBe(0); // power_restored has no target: shown as the sensors', not scored

    // Lift b's second check, done in time after the re-opening.
    const later = fold(
      [...events, { type: 'task_done', task: 'check_lift:lift-b', by: 'guard', at: s(560) }],
      powerCut,
    );
    expect(
      drillReport(drill, new Map(), [], [later], () => powerCut, s(700)).tasks.find(
        (t) => t.task === 'check_lift:lift-b',
      ),
    ).toMatchObject({ outcome: 'met', doneAfterMin: 1, by: 'guard' });
  });

  it('a valve closed from the incident, read back closed, and the flow then stopping: the person did the step, when the valve answered', () => {
    const vacant = load('vacant-unit-flow.yaml');
    expect(vacant.steps.find((x) => x.id === 'close_valve')!.deadline_min).toBe(15);
    const base: IncidentEvent[] = [
      {
        type: 'raised',
        incidentId: 'inc-4',
        playbook: vacant.id,
        title: vacant.title,
        severity: 'major',
        drill: 'drill-1',
        alarmId: 'vacant_unit_flow:wm-1:1',
        kind: 'vacant_unit_flow',
        deviceId: 'wm-1',
        at: s(0),
      },
      { type: 'step_done', step: 'close_valve', by: 'sensor', fields: {}, evidence: SAYS, at: s(300) },
    ];
    const scored = (extra: IncidentEvent[]) =>
      drillReport(
        drill,
        new Map(),
        [],
        [
          fold(
            [...extra, ...base].sort((a, b) => a.at - b.at || (a.type === 'raised' ? -1 : 1)),
            vacant,
          ),
        ],
        () => vacant,
        s(400),
      ).responses.find((x) => x.step === 'close_valve')!;
    // The water stopped by itself: the sensors', not the team's.
    expect(scored([])).toMatchObject({ outcome: 'sensor', by: 'sensor' });
    // A person closed it and the valve read back closed: theirs, at the read-back.
    const cmd = (outcome: 'sent' | 'confirmed' | 'refused', sec: number): IncidentEvent => ({
      type: 'device_command',
      deviceId: 'wm-1',
      command: 'close_valve',
      by: 'duty',
      step: 'close_valve',
      outcome,
      at: s(sec),
    });
    expect(scored([cmd('sent', 240), cmd('confirmed', 241)])).toMatchObject({
      outcome: 'met',
      by: 'duty',
      doneAfterMin: 4,
    }); // within its 15 min
    // A refused command did nothing: still the sensors'.
    expect(scored([cmd('sent', 240), cmd('refused', 241)])).toMatchObject({ outcome: 'sensor' });
  });

  it('times the acknowledgement of each critical alarm of the drill, each time it fires, against the playbook’s target (30 s)', () => {
    expect(playbook.ack_target_s).toBe(30);
    const lift = { id: 'lift_entrapment:lift-a:1', kind: 'lift_entrapment', deviceId: 'lift-a' } as const;
    const cut = { id: 'power_cut_external:t1-incomer:1', kind: 'power_cut_external', deviceId: 't1-incomer' } as const;
    const changes = [
      change('pending', 60, lift),
      change('firing', 80, lift),
      change('firing', 81, cut),
      change('acknowledged', 95, { ...lift, ack: { by: 'duty', at: s(95) } }), // 15 s
      change('firing', 82, { id: 'water_leak:leak-9:1', kind: 'water_leak', deviceId: 'leak-9', drill: undefined }), // real, not the drill's
      change('firing', 83, { id: 'device_offline:m-1:1', kind: 'device_offline', deviceId: 'm-1', severity: 'minor' }), // not critical
      change('cleared', 150, { ...lift, ack: { by: 'duty', at: s(95) } }),
      change('reopened', 200, { ...lift, reopened: 1, earlierAcks: [{ by: 'duty', at: s(95) }] }), // trapped again: a new episode
      change('acknowledged', 260, { ...lift, reopened: 1, ack: { by: 'guard', at: s(260) } }), // 60 s
      change('acknowledged', 300, { ...cut, ack: { by: 'duty', at: s(300) } }), // after the drill ended
    ];
    const episodes = criticalEpisodes(changes, 'drill-1');
    expect(episodes).toEqual([
      {
        alarmId: lift.id,
        kind: 'lift_entrapment',
        device: 'lift-a',
        raisedAt: s(80),
        acknowledgedAt: s(95),
        by: 'duty',
      },
      {
        alarmId: cut.id,
        kind: 'power_cut_external',
        device: 't1-incomer',
        raisedAt: s(81),
        acknowledgedAt: s(300),
        by: 'duty',
      },
      {
        alarmId: lift.id,
        kind: 'lift_entrapment',
        device: 'lift-a',
        raisedAt: s(200),
        acknowledgedAt: s(260),
        by: 'guard',
      },
    ]);
    const inc = fold(
      [
        {
          type: 'raised',
          incidentId: 'inc-1',
          playbook: 'trapped_lift',
          title: playbook.title,
          severity: 'critical',
          drill: 'drill-1',
          alarmId: lift.id,
          kind: 'lift_entrapment',
          deviceId: 'lift-a',
          at: s(80),
        },
      ],
      playbook,
    );
    const r = drillReport(
      { ...drill, endedAt: s(280), status: 'stopped' },
      new Map(),
      episodes,
      [inc],
      () => playbook,
      s(400),
    );
    expect(r.acks.map((a) => [a.kind, a.incident ?? null, a.ackAfterS, a.outcome])).toEqual([
      ['lift_entrapment', 'inc-1', 15, 'met'],
      ['power_cut_external', null, null, 'missed'], // answered only after the drill had ended
      ['lift_entrapment', 'inc-1', 60, 'late'],
    ]);
    expect(r.score.acks).toEqual({ met: 1, sensor: 0, late: 1, missed: 1, open: 0, total: 3 });

    // While the drill runs, an alarm not yet answered is open until its 30 s have passed.
    const running = drillReport(
      drill,
      new Map(),
      [{ alarmId: cut.id, kind: 'power_cut_external', device: 't1-incomer', raisedAt: s(81) }],
      [],
      () => playbook,
      s(100),
    );
    expect(running.acks[0]).toMatchObject({ outcome: null, acknowledgedAt: null, targetS: 30 });
    expect(
      drillReport(
        drill,
        new Map(),
        [{ alarmId: cut.id, kind: 'power_cut_external', device: 't1-incomer', raisedAt: s(81) }],
        [],
        () => playbook,
        s(112),
      ).acks[0]!.outcome,
    ).toBe('missed');
  });

  it('after a restart (only each alarm’s latest state is kept) the first episode is still scored from the alarm itself', () => {
    const lift = {
      id: 'lift_entrapment:lift-a:1',
      kind: 'lift_entrapment',
      deviceId: 'lift-a',
      raisedAt: s(80),
    } as const;
    expect(
      criticalEpisodes([change('acknowledged', 95, { ...lift, ack: { by: 'duty', at: s(95) } })], 'drill-1'),
    ).toEqual([
      {
        alarmId: lift.id,
        kind: 'lift_entrapment',
        device: 'lift-a',
        raisedAt: s(80),
        acknowledgedAt: s(95),
        by: 'duty',
      },
    ]);
    // Restored unanswered, then answered.
    expect(
      criticalEpisodes(
        [change('cleared', 90, lift), change('acknowledged', 120, { ...lift, ack: { by: 'guard', at: s(120) } })],
        'drill-1',
      ),
    ).toEqual([
      {
        alarmId: lift.id,
        kind: 'lift_entrapment',
        device: 'lift-a',
        raisedAt: s(80),
        acknowledgedAt: s(120),
        by: 'guard',
      },
    ]);
  });
});

// ---------------------------------------------------------------------------------------
// Properties

type Op =
  | { t: 'step'; i: number; sensor: boolean }
  | { t: 'skip'; i: number }
  | { t: 'add'; lift: number }
  | { t: 'task'; lift: number; sensor: boolean }
  | { t: 'reopen'; lift: number }
  | { t: 'close' };
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant('step' as const), i: fc.nat({ max: powerCut.steps.length - 1 }), sensor: fc.boolean() }),
  fc.record({ t: fc.constant('skip' as const), i: fc.nat({ max: powerCut.steps.length - 1 }) }),
  fc.record({ t: fc.constant('add' as const), lift: fc.nat({ max: 3 }) }),
  fc.record({ t: fc.constant('task' as const), lift: fc.nat({ max: 3 }), sensor: fc.boolean() }),
  fc.record({ t: fc.constant('reopen' as const), lift: fc.nat({ max: 3 }) }),
  fc.record({ t: fc.constant('close' as const) }),
);

/** A power-cut drill incident worked in a random order, at random times (seconds apart, around the deadlines). */
function incidentOf(ops: { dt: number; op: Op }[]): Incident {
  let at = s(0);
  const events: IncidentEvent[] = [
    {
      type: 'raised',
      incidentId: 'inc-1',
      playbook: 'power_cut',
      title: powerCut.title,
      severity: 'critical',
      drill: 'drill-1',
      at,
    },
  ];
  const inc = () => fold(events, powerCut);
  for (const { dt, op: o } of ops) {
    at += dt * 1000;
    const now = inc();
    if (now.status === 'closed') break;
    const task = (l: number) => `check_lift:lift-${l}`;
    if (o.t === 'step') {
      const step = powerCut.steps[o.i]!;
      if (now.steps[step.id]!.status === 'done' && (o.sensor || !now.steps[step.id]!.evidence)) continue;
      events.push(
        o.sensor
          ? { type: 'step_done', step: step.id, by: 'sensor', fields: {}, evidence: SAYS, at }
          : { type: 'step_done', step: step.id, by: 'duty', fields: {}, at },
      );
    } else if (o.t === 'skip') {
      // It does not apply (not a planned outage, no evening trading): decided by the board, any time.
      if (now.steps[powerCut.steps[o.i]!.id]!.status !== 'done')
        events.push({
          type: 'step_skipped',
          step: powerCut.steps[o.i]!.id,
          reason: { zh: '不适用', en: 'does not apply' },
          at,
        });
    } else if (o.t === 'add' && !now.tasks[task(o.lift)])
      events.push({ type: 'task_added', task: task(o.lift), title: { zh: '检查', en: 'check' }, at });
    else if (o.t === 'task' && now.tasks[task(o.lift)] && !now.tasks[task(o.lift)]!.done)
      events.push({
        type: 'task_done',
        task: task(o.lift),
        by: o.sensor ? 'sensor' : 'guard',
        ...(o.sensor ? { evidence: SAYS } : {}),
        at,
      });
    else if (o.t === 'reopen' && now.tasks[task(o.lift)]?.done)
      events.push({ type: 'task_reopened', task: task(o.lift), reason: { zh: '再次失电', en: 'lost again' }, at });
    else if (o.t === 'close') events.push({ type: 'closed', by: 'system', reason: 'drill_ended', at });
  }
  return inc();
}

/** What every report must say of itself: one outcome per row, sensors never the team's, totals that add up. */
function checkReport(r: DrillReport, inc: readonly Incident[], ended: boolean): void {
  const incs = new Map(inc.map((i) => [i.id, i]));
  for (const row of r.responses) {
    const st = incs.get(row.incident)!.steps[row.step]!;
    const bySensor = st.status === 'done' && st.by === 'sensor';
    // A step the sensors closed is never the team's success, and one a person did is never the sensors'.
    if (row.outcome === 'sensor' || row.outcome === 'met' || row.outcome === 'late')
      expect(st.status, row.step).toBe('done');
    if (bySensor && st.doneAt! <= (r.endedAt ?? Infinity)) expect(row.outcome, row.step).toBe('sensor');
    if (row.outcome === 'sensor') expect(st.by).toBe('sensor');
    if (row.outcome === 'met' && row.targetMin !== undefined)
      expect(st.doneAt! - incs.get(row.incident)!.raisedAt).toBeLessThanOrEqual(row.targetMin * 60_000);
    if (row.outcome === 'late')
      expect(st.doneAt! - incs.get(row.incident)!.raisedAt).toBeGreaterThan(row.targetMin! * 60_000);
    if (row.outcome === 'missed') expect(st.status === 'done' && st.doneAt! <= (r.endedAt ?? Infinity)).toBe(false);
    if (st.status === 'skipped') expect([row.outcome, row.skipped]).toEqual([null, st.skipped]);
    else if (ended && row.targetMin !== undefined)
      expect(row.outcome, `${row.step} once the drill ended`).not.toBeNull();
  }
  for (const row of r.tasks) {
    const t = incs.get(row.incident)!.tasks[row.task]!;
    if (row.outcome === 'sensor') expect(t.by).toBe('sensor');
    if (row.outcome === 'met' || row.outcome === 'late') expect([t.done, t.by === 'sensor']).toEqual([true, false]);
    if (row.outcome === 'met' && row.targetMin !== undefined)
      expect(t.doneAt! - t.openedAt).toBeLessThanOrEqual(row.targetMin * 60_000);
    if (ended && row.targetMin !== undefined) expect(row.outcome, `${row.task} once the drill ended`).not.toBeNull();
  }
  for (const a of r.acks) {
    if (a.outcome === 'met') expect(a.ackAfterS!).toBeLessThanOrEqual(a.targetS);
    if (a.outcome === 'late') expect(a.ackAfterS!).toBeGreaterThan(a.targetS);
    if (a.outcome === 'missed' || a.outcome === null) expect(a.acknowledgedAt).toBeNull();
    expect(a.outcome).not.toBe('sensor');
    if (ended) expect(a.outcome).not.toBeNull();
  }
  // The totals add up, and count the team's on-time only.
  const count = (timed: { outcome: Outcome | null }[]) => {
    return {
      ...Object.fromEntries(OUTCOMES.map((o) => [o, timed.filter((x) => x.outcome === o).length])),
      open: timed.filter((x) => x.outcome === null).length,
      total: timed.length,
    };
  };
  expect(r.score.steps).toEqual(count(r.responses.filter((x) => x.targetMin !== undefined && !x.skipped)));
  expect(r.score.tasks).toEqual(count(r.tasks.filter((x) => x.targetMin !== undefined)));
  expect(r.score.acks).toEqual(count(r.acks));
  for (const t of [r.score.steps, r.score.tasks, r.score.acks]) {
    expect(t.met + t.sensor + t.late + t.missed + t.open).toBe(t.total);
    if (ended) expect(t.open).toBe(0);
  }
}

describe('drill report properties', () => {
  it('for any order and timing of steps, checks and re-openings: one outcome each once the drill ends, sensors never the team’s, totals add up, an outcome once given stays while nothing happens', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ dt: fc.integer({ min: 0, max: 400 }), op }), { maxLength: 30 }),
        fc.integer({ min: 0, max: 1200 }),
        fc.boolean(),
        (ops, waitS, stop) => {
          const inc = incidentOf(ops);
          const last = inc.timeline.at(-1)!.at;
          const now = last + waitS * 1000;
          const endedAt = stop ? Math.min(now, inc.closedAt ?? now) : undefined;
          const d: DrillFacts = { ...drill, ...(endedAt !== undefined ? { endedAt, status: 'stopped' } : {}) };
          const r = drillReport(d, new Map(), [], [inc], () => powerCut, now);
          checkReport(r, [inc], endedAt !== undefined || inc.status === 'closed');
          // Time passing with nothing done never turns an outcome into another (only open into one).
          const later = drillReport(d, new Map(), [], [inc], () => powerCut, now + 3_600_000);
          r.responses.forEach(
            (row, n) => row.outcome !== null && expect(later.responses[n]!.outcome).toBe(row.outcome),
          );
          r.tasks.forEach((row, n) => row.outcome !== null && expect(later.tasks[n]!.outcome).toBe(row.outcome));
          checkReport(later, [inc], endedAt !== undefined || inc.status === 'closed');
        },
      ),
      { numRuns: 1000 },
    );
  });

  it(
    'on random worlds (readings, alarms, people, drills through the real rules and board): every drill’s report holds the same, with one row per episode of its critical alarms',
    () => {
      fc.assert(
        fc.property(world, (acts) => {
          // A last drill still running is stopped, and a minute passes: its incidents close.
          const w = play([...acts, { t: 'drill_stop' }, { t: 'wait', s: 60 }], () => undefined);
          // As the gateway's journal keeps them (without the event's alarm id), and as the engine gives them.
          const journal = w.r.alarmChanges.map((c) => ({ type: c.event.type, at: c.event.at, alarm: c.alarm }));
          const changes = w.r.alarmChanges.map((c) => ({
            type: c.event.type,
            at: c.event.at,
            alarmId: c.event.alarmId,
            alarm: c.alarm,
          }));
          const incidents = w.r.board.list();
          const pb = (id: string): Playbook | undefined => playbooks.byId.get(id);
          for (const d of w.drills) {
            const facts: DrillFacts = {
              id: d.id,
              scenario: 'random',
              title: { zh: '随机', en: 'random' },
              status: 'stopped',
              startedAt: START,
              endedAt: d.stoppedAt!,
              startedBy: 'duty',
              log: [],
              expects: { alarms: [] },
            };
            const episodes = criticalEpisodes(changes, d.id);
            const fired = changes.filter(
              (c) =>
                c.alarm.drill === d.id &&
                c.alarm.severity === 'critical' &&
                (c.type === 'firing' || c.type === 'reopened'),
            );
            expect(episodes.length).toBe(fired.length);
            expect(criticalEpisodes(journal, d.id)).toEqual(episodes);
            const r = drillReport(facts, new Map(), episodes, incidents, pb, w.r.now);
            checkReport(r, incidents, true);
            expect(r.acks.length).toBe(fired.length);
            // Over and done: the score of an ended drill does not change later.
            expect(drillReport(facts, new Map(), episodes, incidents, pb, w.r.now + 86_400_000)).toEqual(r);
          }
        }),
        { ...params, numRuns: Math.min(params.numRuns, 100) },
      );
    },
    TIMEOUT_MS,
  );
});
