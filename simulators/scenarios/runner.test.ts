import { describe, expect, it } from 'vitest';
import { FakeEstate, SMALL_SCENARIO } from './fake-estate.js';
import { parseScenarioFile } from './load.js';
import { describeFault, ScenarioRun } from './runner.js';

const scenario = parseScenarioFile(SMALL_SCENARIO, 'small-outage.yaml');
const S = 1000;

describe('ScenarioRun', () => {
  it('applies each step when its simulated time comes, in file order, and logs it', () => {
    const estate = new FakeEstate();
    const t0 = estate.now();
    const run = new ScenarioRun(scenario, estate, t0);
    expect(run.nextDueAt).toBe(t0);
    expect(run.advance(t0).map((e) => e.action)).toEqual(['note']);
    expect(run.nextDueAt).toBe(t0 + 60 * S);
    // Virtual time moves in uneven jumps; nothing is applied early, nothing twice.
    for (const t of [1, 30, 59.999]) {
      estate.ms = t0 + t * S;
      expect(run.advance(estate.ms)).toEqual([]);
    }
    expect(estate.calls).toEqual([]);
    estate.ms = t0 + 61 * S;
    const at61 = run.advance(estate.ms);
    expect(at61.map((e) => [e.step, e.action, e.device])).toEqual([
      [1, 'inject', 't1-incomer'],
      [2, 'inject', 't1-lift-a'],
    ]);
    expect(at61.map((e) => [e.plannedAt - t0, e.at - t0])).toEqual([
      [60 * S, 61 * S],
      [60 * S, 61 * S],
    ]);
    expect(estate.active()).toEqual(['t1-incomer:power_cut', 't1-lift-a:lift_stuck']);
    expect(run.finished).toBe(false);
    // One big jump past the rest: the clear comes out, and the run is over only at its duration.
    estate.ms = t0 + 599 * S;
    expect(run.advance(estate.ms).map((e) => [e.step, e.action, e.faultType])).toEqual([[3, 'clear', 'power_cut']]);
    expect(run.nextDueAt).toBeUndefined();
    expect(run.finished).toBe(false);
    expect(run.advance(t0 + 600 * S)).toEqual([]);
    expect(run.finished).toBe(true);
    expect(run.log.map((e) => e.step)).toEqual([0, 1, 2, 3]);
    expect(estate.calls.map((c) => [c.op, (c.at - t0) / S])).toEqual([
      ['inject', 61],
      ['inject', 61],
      ['clear', 599],
    ]);
  });

  it('says what it did in both languages', () => {
    const estate = new FakeEstate();
    const run = new ScenarioRun(scenario, estate, estate.now());
    const log = run.advance(estate.now() + 300 * S);
    expect(log.map((e) => e.what)).toEqual([
      { zh: '00:00 开始', en: '00:00 Start' },
      { zh: '01:00 t1-incomer：注入断电', en: '01:00 t1-incomer: power cut' },
      {
        zh: '01:00 t1-lift-a：注入电梯停梯困人，2 名乘客，非平层，按下警铃',
        en: '01:00 t1-lift-a: lift stuck, 2 passengers, between floors, alarm button pressed',
      },
    ]);
    expect(describeFault({ type: 'pump_fail', alarmCode: 2, afterPowerReturn: true })).toEqual({
      zh: '水泵故障，报警代码 2，来电后无法启动',
      en: 'pump failure, alarm code 2, will not restart when power returns',
    });
    expect(describeFault({ type: 'hold', fields: { supply_temp_c: 112 } }).en).toBe('values held, supply_temp_c=112');
  });

  it('abort clears what it set and is still set, leaves other faults alone, and stops the run', () => {
    const estate = new FakeEstate();
    estate.inject('t1-leak-sump', { type: 'leak' }); // someone else's
    const run = new ScenarioRun(scenario, estate, estate.now());
    run.advance(estate.now() + 300 * S); // the cut and the stuck lift are set; the restore is not due yet
    expect(run.abort().sort((a, b) => a.device.localeCompare(b.device))).toEqual([
      { device: 't1-incomer', type: 'power_cut' },
      { device: 't1-lift-a', type: 'lift_stuck' },
    ]);
    expect(estate.active()).toEqual(['t1-leak-sump:leak']);
    expect(run.finished).toBe(true);
    expect(run.advance(estate.now() + 600 * S)).toEqual([]);
    expect(run.abort()).toEqual([]);
  });

  it('does not clear again what a step already cleared', () => {
    const estate = new FakeEstate();
    const run = new ScenarioRun(scenario, estate, estate.now());
    run.advance(estate.now() + 599 * S);
    estate.calls.length = 0;
    expect(run.abort()).toEqual([{ device: 't1-lift-a', type: 'lift_stuck' }]);
    expect(estate.calls.map((c) => c.op)).toEqual(['clear']);
  });

  it('logs a step the estate refuses and carries on with the next', () => {
    const estate = new FakeEstate(
      undefined,
      new FakeEstate().devices().filter((d) => d.id !== 't1-incomer'),
    );
    const run = new ScenarioRun(scenario, estate, estate.now());
    const log = run.advance(estate.now() + 300 * S);
    expect(log[1]).toMatchObject({
      step: 1,
      action: 'inject',
      device: 't1-incomer',
      error: 'estate: no device "t1-incomer"',
    });
    expect(log[1]!.what.en).toBe(
      '01:00 t1-incomer: the simulated estate refused this step (estate: no device "t1-incomer")',
    );
    expect(log[2]).toMatchObject({ step: 2, device: 't1-lift-a' });
    expect(log[2]!.error).toBeUndefined();
    expect(estate.active()).toEqual(['t1-lift-a:lift_stuck']);
  });
});
