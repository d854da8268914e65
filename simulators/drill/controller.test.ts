import { describe, expect, it } from 'vitest';
import { siteFacts } from '../../gateway/alarms/facts.js';
import { loadRegisterProfiles } from '../../gateway/profiles/profile.js';
import { RuleEngine } from '../../rules/engine.js';
import { Estate } from '../estate/estate.js';
import { localMs, testSiteConfig } from '../estate/test-site.testing.js';
import { FakeEstate, SMALL_SCENARIO } from '../scenarios/fake-estate.js';
import { parseScenarioFile } from '../scenarios/load.js';
import { DrillController, DrillError, type DrillRecord } from './controller.js';
import { mayNotify } from './guard.js';
import { ManualClock } from '../../gateway/ports/manual-clock.js';

const S = 1000;
const small = parseScenarioFile(SMALL_SCENARIO, 'small-outage.yaml');

function setup(opts: { estate?: FakeEstate | null; journal?: DrillRecord[][]; past?: DrillRecord[] } = {}) {
  const estate = opts.estate === null ? undefined : (opts.estate ?? new FakeEstate());
  const clock = new ManualClock(Date.parse('2026-11-22T10:00:00+08:00'));
  const journal = opts.journal;
  const c = new DrillController({
    scenarios: [
      { scenario: small },
      {
        scenario: { ...small, name: 'broken' },
        file: 'broken.yaml',
        problems: [{ path: 'steps[1].inject.device', line: 9, col: 15, message: 'no device "t9-incomer"' }],
      },
    ],
    ...(estate ? { estate } : {}),
    clock,
    ...(journal ? { journal: { append: async (r: DrillRecord[]) => void journal.push(r) } } : {}),
    ...(opts.past ? { past: opts.past } : {}),
  });
  return { c, clock, estate: estate!, t0: clock.now() };
}

async function refusal(p: Promise<unknown>): Promise<DrillError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof DrillError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('DrillController', () => {
  it('starts a scenario: one drill at a time, named by its local start time, steps at 00:00 applied at once', async () => {
    const { c, estate, t0 } = setup();
    expect(c.activeDrill()).toBeUndefined();
    const d = await c.start('small-outage', 'duty');
    expect(d).toMatchObject({
      id: 'drill-20261122-100000',
      scenario: 'small-outage',
      status: 'running',
      startedAt: t0,
      startedBy: 'duty',
      endsAt: t0 + 600 * S,
    });
    expect(d.log.map((e) => e.action)).toEqual(['note']);
    expect(c.activeDrill()).toEqual({ id: d.id, scenario: 'small-outage', startedAt: t0 });
    expect(c.activeDrillId()).toBe(d.id);
    expect(d.devices).toEqual(['t1-incomer', 't1-lift-a']);
    // Scope: what it acts on and everything below it on the feeder tree.
    expect(c.runningDrill()!.id).toBe(d.id);
    expect(c.runningDrill()!.scope.has('t1-booster-pump')).toBe(true);
    expect(c.runningDrill()!.scope.has('t1-wm-0701')).toBe(false);

    const again = await refusal(c.start('small-outage', 'ada'));
    expect([again.code, again.status]).toEqual(['drill_running', 409]);
    expect(again.message).toBe(
      '已有演练在进行：drill-20261122-100000（small-outage，duty 发起），请先停止 / A drill is already running: drill-20261122-100000 (small-outage, started by duty); stop it first',
    );
    expect(estate.calls).toEqual([]);
  });

  it('refuses an unknown scenario (404), one that does not fit the site (422) and any start without an estate (503)', async () => {
    const { c } = setup();
    const unknown = await refusal(c.start('alien-invasion', 'duty'));
    expect([unknown.status, unknown.message]).toEqual([
      404,
      '没有名为 "alien-invasion" 的演练场景 / No scenario "alien-invasion" (have: broken, small-outage)',
    ]);
    const misfit = await refusal(c.start('broken', 'duty'));
    expect(misfit.status).toBe(422);
    expect(misfit.message).toMatch(
      /^演练场景 "broken" 与本园区的设备不符 \/ Scenario "broken" does not fit this site: steps\[1\]\.inject\.device: no device "t9-incomer"$/,
    );
    expect(misfit.extra).toEqual({ problems: ['broken.yaml:9:15  steps[1].inject.device: no device "t9-incomer"'] });
    expect(c.scenarios().map((s) => [s.name, s.fits])).toEqual([
      ['small-outage', true],
      ['broken', false],
    ]);
    const none = setup({ estate: null }).c;
    expect(none.available()).toBe(false);
    const err = await refusal(none.start('small-outage', 'duty'));
    expect([err.code, err.status]).toEqual(['no_estate', 503]);
    expect(err.message).toMatch(
      /^此网关没有连接模拟园区，不能演练.* \/ This gateway runs no simulated estate, so it cannot run drills/,
    );
  });

  it('ticked on virtual time: injects when due, dates its expectations, completes at its end and clears its faults', async () => {
    const { c, clock, estate, t0 } = setup();
    await c.start('small-outage', 'duty');
    clock.setTime(t0 + 59 * S);
    expect(c.tick()).toEqual([]);
    clock.setTime(t0 + 60 * S);
    expect(c.tick().map((e) => e.device)).toEqual(['t1-incomer', 't1-lift-a']);
    expect(estate.active()).toEqual(['t1-incomer:power_cut', 't1-lift-a:lift_stuck']);
    const running = c.running()!;
    expect(running.expects.alarms.map((a) => [a.kind, (a.dueBy! - t0) / S])).toEqual([
      ['power_cut_external', 90],
      ['lift_entrapment', 120],
      ['device_offline', 120],
    ]);
    expect(running.expects.readings[0]!.dueBy).toBeNull(); // its cause (the restore) has not come yet
    clock.setTime(t0 + 330 * S);
    c.tick();
    expect(c.running()!.expects.readings[0]!.dueBy).toBe(t0 + 360 * S);
    expect(estate.active()).toEqual(['t1-lift-a:lift_stuck']);
    clock.setTime(t0 + 600 * S);
    c.tick();
    expect(c.activeDrill()).toBeUndefined();
    expect(estate.active()).toEqual([]);
    const { current, history } = c.status();
    expect(current).toBeNull();
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({
      status: 'completed',
      endedAt: t0 + 600 * S,
      cleared: [{ device: 't1-lift-a', type: 'lift_stuck' }],
    });
    expect(history[0]!.endedBy).toBeUndefined();
    expect(history[0]!.log.map((e) => e.step)).toEqual([0, 1, 2, 3]);
  });

  it('stop clears the faults it set (not others), records who stopped it; stopping nothing is a 409', async () => {
    const { c, clock, estate, t0 } = setup();
    estate.inject('t1-leak-sump', { type: 'leak' });
    const d = await c.start('small-outage', 'duty');
    clock.setTime(t0 + 90 * S);
    c.tick();
    clock.setTime(t0 + 100 * S);
    const stopped = await c.stop('ada');
    expect(stopped).toMatchObject({ id: d.id, status: 'stopped', endedAt: t0 + 100 * S, endedBy: 'ada' });
    expect(stopped.cleared.map((x) => `${x.device}:${x.type}`).sort()).toEqual([
      't1-incomer:power_cut',
      't1-lift-a:lift_stuck',
    ]);
    expect(estate.active()).toEqual(['t1-leak-sump:leak']);
    expect(c.activeDrillId()).toBeUndefined();
    clock.setTime(t0 + 400 * S);
    expect(c.tick()).toEqual([]); // a stopped drill applies nothing more
    const none = await refusal(c.stop('ada'));
    expect([none.code, none.status, none.message]).toEqual([
      'no_drill_running',
      409,
      '当前没有进行中的演练 / No drill is running',
    ]);
    expect(c.get(d.id).status).toBe('stopped');
    expect(() => c.get('drill-nope')).toThrow(DrillError);
  });

  it('gives the next drill started in the same second an id of its own', async () => {
    const { c } = setup();
    expect((await c.start('small-outage', 'duty')).id).toBe('drill-20261122-100000');
    await c.stop('duty');
    expect((await c.start('small-outage', 'duty')).id).toBe('drill-20261122-100000-2');
  });

  it('journals every change; a new controller folds the journal back, and ends as interrupted what was running', async () => {
    const journal: DrillRecord[][] = [];
    const { c, clock, t0 } = setup({ journal });
    const first = await c.start('small-outage', 'duty');
    clock.setTime(t0 + 60 * S);
    c.tick();
    clock.setTime(t0 + 70 * S);
    await c.stop('duty');
    clock.setTime(t0 + 3600 * S);
    const second = await c.start('small-outage', 'otto');
    clock.setTime(t0 + 3661 * S);
    c.tick();
    await Promise.resolve();
    expect(journal.flat().map((r) => r.type)).toEqual(['started', 'applied', 'ended', 'started', 'applied']);

    const past = journal.flat();
    const again = setup({ past, journal: [] });
    expect(again.c.get(first.id)).toEqual(c.get(first.id));
    expect(again.c.get(second.id).status).toBe('running');
    expect(again.c.activeDrillId()).toBeUndefined(); // history only: the estate it ran on is gone
    const ended = await again.c.recover();
    expect(ended.map((d) => d.id)).toEqual([second.id]);
    expect(again.c.get(second.id)).toMatchObject({ status: 'interrupted', endedAt: t0 + 3661 * S });
    expect(again.c.status().history.map((d) => d.id)).toEqual([second.id, first.id]);
  });

  it('tags the alarms the real rules raise while it runs, and only then (simulated estate, virtual time)', async () => {
    const config = testSiteConfig();
    const start = localMs('2026-11-22T10:00:00');
    const estate = new Estate({ config, profiles: loadRegisterProfiles(), seed: 3, start });
    const facts = siteFacts(config);
    const engine = new RuleEngine({ facts, start });
    const clock = new ManualClock(start);
    const scenario = parseScenarioFile(
      `name: lift-only
title: { zh: 困人, en: Trapped }
description: { zh: 测试, en: Test }
duration: "05:00"
steps:
  - { at: "00:10", inject: { device: lift-a, fault: { type: lift_stuck, passengers: 2 } } }
expects:
  alarms: [{ kind: lift_entrapment, device: lift-a, within: 60 }]
`,
      'lift-only.yaml',
    );
    const c = new DrillController({ scenarios: [{ scenario }], estate, clock });
    const fired: { kind: string; device: string; drill?: string }[] = [];
    const run = (seconds: number) => {
      for (let i = 0; i < seconds; i++) {
        clock.advance(S);
        c.tick();
        for (const o of estate.advance(clock.now())) {
          if ('fields' in o)
            engine.observe(
              {
                deviceId: o.deviceId,
                kind: facts.devices.get(o.deviceId)!.kind,
                ts: o.ts,
                fields: o.fields,
                quality: 'good',
              },
              o.ts,
            );
        }
        for (const ch of engine.evaluate(clock.now(), c.runningDrill())) {
          if (ch.event.type === 'firing')
            fired.push({
              kind: ch.alarm.kind,
              device: ch.alarm.deviceId,
              ...(ch.alarm.drill ? { drill: ch.alarm.drill } : {}),
            });
        }
      }
    };
    run(60);
    const d = await c.start('lift-only', 'duty');
    run(120);
    expect(fired).toEqual([{ kind: 'lift_entrapment', device: 'lift-a', drill: d.id }]);
    await c.stop('duty');
    expect(estate.faults('lift-a')).toEqual([]);
    // A real emergency after the drill: not tagged.
    estate.inject('leak-1', { type: 'leak' });
    run(60);
    expect(fired.slice(1)).toEqual([{ kind: 'water_leak', device: 'leak-1' }]);
  });
});

describe('mayNotify', () => {
  it('lets real events out everywhere and drill events only to internal channels; unknown channel types count as real', () => {
    for (const type of ['wecom', 'dingtalk', 'webhook', 'sms']) {
      expect(mayNotify({ type }, undefined), type).toBe(true);
      expect(mayNotify({ type }, null), type).toBe(true);
      expect(mayNotify({ type }, 'drill-20261122-100000'), type).toBe(false);
      expect(mayNotify({ type }, { id: 'drill-20261122-100000' }), type).toBe(false);
    }
    expect(mayNotify({ type: 'log' }, 'drill-1')).toBe(true);
    expect(mayNotify({ type: 'timeline' }, { id: 'drill-1' })).toBe(true);
  });
});
