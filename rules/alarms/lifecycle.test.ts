import { describe, expect, it } from 'vitest';
import { ALARM_KINDS, ALARM_KIND_NAMES, isAlarmKind, severityRank } from './kinds.js';
import {
  AlarmInputError,
  newAlarmId,
  policyFor,
  transition,
  type Alarm,
  type AlarmEvent,
  type AlarmInput,
  type Evidence,
} from './lifecycle.js';

const T0 = Date.parse('2026-11-22T02:00:00Z');
const s = (seconds: number) => T0 + seconds * 1000;
const wet: Evidence = {
  text: { zh: '漏水传感器检测到水', en: 'leak sensor wet' },
  readings: [{ deviceId: 'leak-1', field: 'wet', value: true, ts: T0 }],
};
const key = { kind: 'water_leak' as const, deviceId: 'leak-1' };
const leakPolicy = policyFor('water_leak', { forS: 5, clearS: 60 });

/** Feeds inputs at the given seconds; returns the final alarm and every event. */
function run(
  steps: [number, AlarmInput][],
  policy = leakPolicy,
  start?: Alarm,
): { alarm: Alarm | undefined; events: AlarmEvent[] } {
  let alarm = start;
  const events: AlarmEvent[] = [];
  for (const [at, input] of steps) {
    const t = transition(alarm, key, input, s(at), policy);
    alarm = t.alarm;
    events.push(...t.events);
  }
  return { alarm, events };
}
const on = (evidence: Evidence = wet): AlarmInput => ({ type: 'condition', active: true, evidence });
const off: AlarmInput = { type: 'condition', active: false };
const types = (events: AlarmEvent[]) => events.map((e) => e.type);

describe('alarm lifecycle', () => {
  it('fires only once the condition has held for its duration: 4.999 s is not enough, 5 s is', () => {
    const short = run([
      [0, on()],
      [4.999, on()],
      [5.5, off],
    ]);
    expect(short.alarm).toBeUndefined();
    expect(types(short.events)).toEqual(['pending', 'dropped']);
    const held = run([
      [0, on()],
      [5, on()],
    ]);
    expect(held.alarm).toMatchObject({
      status: 'firing',
      since: s(0),
      raisedAt: s(5),
      severity: 'critical',
      id: `water_leak:leak-1:${s(0)}`,
    });
    expect(types(held.events)).toEqual(['pending', 'firing']);
  });

  it('fires at once with no duration', () => {
    const { alarm, events } = run([[0, on()]], policyFor('lift_entrapment', { forS: 0, clearS: 0 }));
    expect(alarm?.status).toBe('firing');
    expect(types(events)).toEqual(['pending', 'firing']);
  });

  it('clears only after the condition stayed false for clearS (hysteresis), then waits for acknowledgement', () => {
    const { alarm, events } = run([
      [0, on()],
      [5, on()],
      [10, off],
      [69.999, off],
    ]);
    expect(alarm).toMatchObject({ status: 'firing', clearingSince: s(10) });
    const cleared = run([[70, off]], leakPolicy, alarm);
    expect(cleared.alarm).toMatchObject({ status: 'cleared', clearedAt: s(70) });
    expect(cleared.alarm).not.toHaveProperty('clearingSince');
    expect(types([...events, ...cleared.events])).toEqual(['pending', 'firing', 'cleared']);
    // critical: stays until someone acknowledges, then closes
    const acked = run(
      [[100, { type: 'acknowledge', by: 'duty', comment: '阀门已关 valve closed' }]],
      leakPolicy,
      cleared.alarm,
    );
    expect(acked.alarm).toMatchObject({
      status: 'closed',
      closedAt: s(100),
      ack: { by: 'duty', at: s(100), comment: '阀门已关 valve closed' },
    });
    expect(types(acked.events)).toEqual(['acknowledged', 'closed']);
  });

  it('a condition that returns during the hysteresis keeps the alarm firing, with no event', () => {
    const { alarm, events } = run([
      [0, on()],
      [5, on()],
      [10, off],
      [40, on()],
      [90, off],
    ]);
    expect(alarm).toMatchObject({ status: 'firing', clearingSince: s(90) });
    expect(types(events)).toEqual(['pending', 'firing']);
  });

  it('acknowledged while firing: it closes as soon as it clears', () => {
    const { alarm, events } = run([
      [0, on()],
      [5, on()],
      [6, { type: 'acknowledge', by: 'duty' }],
      [7, off],
      [67, off],
    ]);
    expect(alarm?.status).toBe('closed');
    expect(types(events)).toEqual(['pending', 'firing', 'acknowledged', 'cleared', 'closed']);
  });

  it('minor alarms close when they clear, without acknowledgement', () => {
    const { alarm, events } = run(
      [
        [0, on()],
        [0, off],
      ],
      { ...policyFor('device_offline', { forS: 0, clearS: 0 }) },
    );
    expect(alarm?.status).toBe('closed');
    expect(types(events)).toEqual(['pending', 'firing', 'cleared', 'closed']);
  });

  it('a flapping input (true/false every 30 s for an hour) is one alarm, reopened, not dozens', () => {
    const steps: [number, AlarmInput][] = [];
    // Evaluated every 10 s, as the runtime ticks; the input changes every 30 s.
    for (let t = 0; t < 3600; t += 10) steps.push([t, Math.floor(t / 30) % 2 === 0 ? on() : off]);
    const clearQuickly = policyFor('water_leak', { forS: 0, clearS: 20, reopenS: 600 });
    const { alarm, events } = run(steps, clearQuickly);
    const ids = new Set(events.map((e) => e.alarmId));
    expect(ids.size).toBe(1);
    expect(events.filter((e) => e.type === 'firing')).toHaveLength(1);
    expect(alarm!.reopened).toBe(59);
  });

  it('a minor alarm that flaps is reopened even though each clearing closed it', () => {
    const p = policyFor('device_offline', { forS: 0, clearS: 0, reopenS: 300 });
    const { alarm, events } = run(
      [
        [0, on()],
        [10, off],
        [20, on()],
        [30, off],
        [40, on()],
      ],
      p,
    );
    expect(new Set(events.map((e) => e.alarmId)).size).toBe(1);
    expect(alarm).toMatchObject({ status: 'firing', reopened: 2 });
    expect(alarm).not.toHaveProperty('closedAt');
  });

  it('a condition that returns after the reopen window is a new alarm', () => {
    const p = policyFor('device_offline', { forS: 0, clearS: 0, reopenS: 300 });
    const { alarm, events } = run(
      [
        [0, on()],
        [10, off],
        [310.001, on()],
      ],
      p,
    );
    expect(new Set(events.map((e) => e.alarmId)).size).toBe(2);
    expect(alarm).toMatchObject({ status: 'firing', reopened: 0, since: s(310.001) });
  });

  it('a cleared, unacknowledged alarm that comes back is the same alarm, whatever the time', () => {
    const first = run([
      [0, on()],
      [5, on()],
      [6, off],
      [66, off],
    ]);
    expect(first.alarm?.status).toBe('cleared');
    const back = run([[7200, on()]], leakPolicy, first.alarm);
    expect(back.alarm).toMatchObject({ id: first.alarm!.id, status: 'firing', reopened: 1 });
    expect(types(back.events)).toEqual(['reopened']);
  });

  it('keeps the first evidence while pending and takes the latest once firing', () => {
    const later: Evidence = { ...wet, text: { zh: '仍然漏水', en: 'still wet' } };
    const { alarm } = run([
      [0, on()],
      [2, on(later)],
    ]);
    expect(alarm?.evidence).toBe(wet);
    const firing = run([
      [0, on()],
      [5, on()],
      [9, on(later)],
    ]);
    expect(firing.alarm?.evidence).toBe(later);
  });

  it('a condition coming back in another drill (or after one) is a new alarm with its own tag', () => {
    const d1: AlarmInput = { type: 'condition', active: true, evidence: wet, drill: 'drill-1' };
    const d2: AlarmInput = { type: 'condition', active: true, evidence: wet, drill: 'drill-2' };
    const { alarm, events } = run([
      [0, d1],
      [5, d1],
      [6, off],
      [66, off],
      [100, d2],
      [105, d2],
    ]);
    expect(alarm).toMatchObject({ drill: 'drill-2', status: 'firing', reopened: 0, since: s(100) });
    expect(types(events)).toEqual(['pending', 'firing', 'cleared', 'closed', 'pending', 'firing']);
    const real = run([[200, on()]], leakPolicy, alarm && { ...alarm, status: 'cleared', clearedAt: s(150) });
    expect(real.alarm).not.toHaveProperty('drill');
  });

  it('tags an alarm raised during a drill', () => {
    const { alarm } = run([
      [0, { type: 'condition', active: true, evidence: wet, drill: 'drill-7' }],
      [5, on()],
    ]);
    expect(alarm?.drill).toBe('drill-7');
  });

  it('refuses to acknowledge nothing, or a pending alarm, and ignores a second acknowledgement', () => {
    expect(() => run([[0, { type: 'acknowledge', by: 'duty' }]])).toThrow(AlarmInputError);
    expect(() =>
      run([
        [0, on()],
        [1, { type: 'acknowledge', by: 'duty' }],
      ]),
    ).toThrow(/no firing water_leak alarm on leak-1/);
    const { alarm, events } = run([
      [0, on()],
      [5, on()],
      [6, { type: 'acknowledge', by: 'a' }],
      [7, { type: 'acknowledge', by: 'b' }],
    ]);
    expect(alarm?.ack?.by).toBe('a');
    expect(types(events)).toEqual(['pending', 'firing', 'acknowledged']);
  });

  it('keeps comments in order with who and when; none on a pending alarm', () => {
    const { alarm, events } = run([
      [0, on()],
      [5, on()],
      [6, { type: 'comment', by: 'duty', text: '已到现场 on site' }],
      [9, { type: 'comment', by: 'lead', text: '关阀 valve shut' }],
    ]);
    expect(alarm?.comments).toEqual([
      { by: 'duty', at: s(6), text: '已到现场 on site' },
      { by: 'lead', at: s(9), text: '关阀 valve shut' },
    ]);
    expect(types(events)).toEqual(['pending', 'firing', 'commented', 'commented']);
    expect(() =>
      run([
        [0, on()],
        [1, { type: 'comment', by: 'duty', text: 'x' }],
      ]),
    ).toThrow(AlarmInputError);
  });

  it('refuses a new alarm without evidence', () => {
    expect(() => transition(undefined, key, { type: 'condition', active: true }, T0, leakPolicy)).toThrow(
      /needs its evidence/,
    );
  });

  it('is pure: the previous value is never changed', () => {
    const { alarm } = run([
      [0, on()],
      [5, on()],
    ]);
    const frozen = structuredClone(alarm);
    transition(alarm, key, off, s(100), leakPolicy);
    transition(alarm, key, { type: 'acknowledge', by: 'x' }, s(100), leakPolicy);
    expect(alarm).toEqual(frozen);
  });
});

describe('alarm ids', () => {
  it('are kind, device and start; one started in the same millisecond as the one before on its key gets a count', () => {
    const key = { kind: 'power_cut_external', deviceId: 't1-incomer' } as const;
    expect(newAlarmId(key, 5000)).toBe('power_cut_external:t1-incomer:5000');
    expect(newAlarmId({ ...key, previousId: 'power_cut_external:t1-incomer:4000' }, 5000)).toBe(
      'power_cut_external:t1-incomer:5000',
    );
    expect(newAlarmId({ ...key, previousId: 'power_cut_external:t1-incomer:5000' }, 5000)).toBe(
      'power_cut_external:t1-incomer:5000:1',
    );
    expect(newAlarmId({ ...key, previousId: 'power_cut_external:t1-incomer:5000:1' }, 5000)).toBe(
      'power_cut_external:t1-incomer:5000:2',
    );
    // A device whose id merely starts the same is another key's business.
    expect(newAlarmId({ ...key, previousId: 'power_cut_external:t1-incomer:50001' }, 5000)).toBe(
      'power_cut_external:t1-incomer:5000',
    );
  });
});

describe('alarm kinds', () => {
  it('names every kind of DOMAIN.md §2 with a severity and both languages', () => {
    for (const k of [
      'water_leak',
      'vacant_unit_flow',
      'continuous_flow',
      'night_flow_high',
      'pipe_burst',
      'sump_pump_failure',
      'abnormal_inflow',
      'phase_loss',
      'power_cut_external',
      'circuit_fault_internal',
      'breaker_tripped',
      'lift_entrapment',
      'lift_stopped_out_of_zone',
      'lift_door_fault',
      'lift_overtravel',
      'heating_low',
      'boiler_overheat',
      'boiler_pressure',
      'boiler_fault',
      'pump_failure',
      'device_offline',
    ]) {
      expect(isAlarmKind(k), k).toBe(true);
    }
    for (const k of ALARM_KIND_NAMES)
      expect(ALARM_KINDS[k].title.zh.length * ALARM_KINDS[k].title.en.length, k).toBeGreaterThan(0);
    expect(isAlarmKind('toString')).toBe(false);
  });

  it('never lets anything inhibit a trapped-lift alarm or a power cut', () => {
    expect(ALARM_KINDS.lift_entrapment.inhibitable).toBe(false);
    expect(ALARM_KINDS.power_cut_external.inhibitable).toBe(false);
    expect(ALARM_KINDS.device_offline.inhibitable).toBe(true);
  });

  it('sorts critical first', () => {
    expect(
      (['minor', 'critical', 'warning', 'major'] as const).slice().sort((a, b) => severityRank(a) - severityRank(b)),
    ).toEqual(['critical', 'major', 'minor', 'warning']);
  });
});
