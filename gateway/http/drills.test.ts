import { afterEach, describe, expect, it } from 'vitest';
import { DrillController, type Drill, type ScenarioInfo } from '../../simulators/drill/controller.js';
import { FakeEstate, SMALL_SCENARIO } from '../../simulators/scenarios/fake-estate.js';
import { parseScenarioFile } from '../../simulators/scenarios/load.js';
import { TOKENS, bearer, json, session, testApi } from './testing.js';
import { ManualClock } from '../ports/manual-clock.js';

const viewer = bearer(TOKENS.dashboard);
const small = parseScenarioFile(SMALL_SCENARIO, 'small-outage.yaml');
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function withDrills(opts: { estate?: boolean; drills?: boolean } = {}) {
  const clock = new ManualClock(Date.parse('2026-11-22T02:00:00Z'));
  const estate = new FakeEstate(clock.now());
  const drills = new DrillController({
    scenarios: [
      { scenario: small },
      {
        scenario: { ...small, name: 'elsewhere' },
        file: 'elsewhere.yaml',
        problems: [{ path: 'steps[1].inject.device', line: 9, col: 15, message: 'no device "x9"' }],
      },
    ],
    ...(opts.estate === false ? {} : { estate }),
    clock,
  });
  const t = await testApi({ clock, ...(opts.drills === false ? {} : { drills }) });
  cleanups.push(() => t.app.close());
  return { ...t, clock, estate, drills, otto: await session(t.app, 'otto') };
}

describe('drill routes', () => {
  it('viewers read scenarios and drills; starting and stopping needs an operator', async () => {
    const t = await withDrills();
    for (const url of ['/api/drills/scenarios', '/api/drills', '/api/drills/drill-1'])
      expect((await t.app.inject({ url })).statusCode, url).toBe(401);
    const list = await t.app.inject({ url: '/api/drills/scenarios', headers: viewer });
    expect(list.statusCode).toBe(200);
    const body = json<{ available: boolean; scenarios: ScenarioInfo[] }>(list);
    expect(body.available).toBe(true);
    expect(body.scenarios.map((s) => [s.name, s.title.en, s.fits])).toEqual([
      ['small-outage', 'Small outage', true],
      ['elsewhere', 'Small outage', false],
    ]);
    expect(body.scenarios[0]!.expects.alarms.map((a) => a.kind)).toEqual([
      'power_cut_external',
      'lift_entrapment',
      'device_offline',
    ]);
    expect(body.scenarios[0]!.expects.playbooks).toEqual(['power_cut', 'trapped_lift']);
    for (const url of ['/api/drills', '/api/drills/stop']) {
      const res = await t.app.inject({ method: 'POST', url, headers: viewer, payload: { scenario: 'small-outage' } });
      expect(res.statusCode, url).toBe(403);
    }
    expect(t.estate.calls).toEqual([]);
  });

  it('an operator starts a drill (201), a second start is a 409, stop ends it and clears its faults; the record keeps what was injected', async () => {
    const t = await withDrills();
    const started = await t.app.inject({
      method: 'POST',
      url: '/api/drills',
      headers: t.otto,
      payload: { scenario: 'small-outage' },
    });
    expect(started.statusCode, started.body).toBe(201);
    const drill = json<Drill>(started);
    expect(drill).toMatchObject({
      id: 'drill-20261122-100000',
      scenario: 'small-outage',
      status: 'running',
      startedBy: 'otto',
    });

    const again = await t.app.inject({
      method: 'POST',
      url: '/api/drills',
      headers: bearer(TOKENS.meterbot),
      payload: { scenario: 'small-outage' },
    });
    expect(again.statusCode).toBe(409);
    expect(json(again)).toEqual({
      error: 'drill_running',
      drill: drill.id,
      message: expect.stringMatching(
        /^已有演练在进行：drill-20261122-100000.* \/ A drill is already running: drill-20261122-100000 \(small-outage, started by otto\); stop it first$/,
      ),
    });

    t.clock.advance(61_000);
    t.drills.tick();
    expect(t.estate.active()).toEqual(['t1-incomer:power_cut', 't1-lift-a:lift_stuck']);
    const status = json<{ now: number; current: Drill; history: Drill[] }>(
      await t.app.inject({ url: '/api/drills', headers: viewer }),
    );
    expect(status.now).toBe(t.clock.now());
    expect(status.current.log.map((e) => e.what.en)).toEqual([
      '00:00 Start',
      '01:00 t1-incomer: power cut',
      '01:00 t1-lift-a: lift stuck, 2 passengers, between floors, alarm button pressed',
    ]);
    expect(status.history).toEqual([]);

    t.clock.advance(9_000);
    const stopped = await t.app.inject({ method: 'POST', url: '/api/drills/stop', headers: t.otto });
    expect(stopped.statusCode, stopped.body).toBe(200);
    expect(json(stopped)).toMatchObject({ id: drill.id, status: 'stopped', endedBy: 'otto', endedAt: t.clock.now() });
    expect(t.estate.active()).toEqual([]);
    const twice = await t.app.inject({ method: 'POST', url: '/api/drills/stop', headers: t.otto });
    expect([twice.statusCode, json(twice).error]).toEqual([409, 'no_drill_running']);

    const record = json<Drill>(await t.app.inject({ url: `/api/drills/${drill.id}`, headers: viewer }));
    expect(record.log.map((e) => [e.step, e.action, e.device ?? null])).toEqual([
      [0, 'note', null],
      [1, 'inject', 't1-incomer'],
      [2, 'inject', 't1-lift-a'],
    ]);
    expect(record.expects.alarms.map((a) => [a.kind, a.dueBy])).toEqual([
      ['power_cut_external', record.log[1]!.at + 30_000],
      ['lift_entrapment', record.log[1]!.at + 60_000],
      ['device_offline', record.log[1]!.at + 60_000],
    ]);
    expect(
      json<{ current: null; history: Drill[] }>(
        await t.app.inject({ url: '/api/drills', headers: viewer }),
      ).history.map((d) => d.id),
    ).toEqual([drill.id]);
  });

  it('answers bad requests with their reason: unknown scenario 404, one that does not fit 422, no body 400, unknown drill 404', async () => {
    const t = await withDrills();
    const unknown = await t.app.inject({
      method: 'POST',
      url: '/api/drills',
      headers: t.otto,
      payload: { scenario: 'alien-invasion' },
    });
    expect([unknown.statusCode, json(unknown).error, json(unknown).message]).toEqual([
      404,
      'unknown_scenario',
      '没有名为 "alien-invasion" 的演练场景 / No scenario "alien-invasion" (have: elsewhere, small-outage)',
    ]);
    const misfit = await t.app.inject({
      method: 'POST',
      url: '/api/drills',
      headers: t.otto,
      payload: { scenario: 'elsewhere' },
    });
    expect(misfit.statusCode).toBe(422);
    expect(json(misfit)).toMatchObject({
      error: 'scenario_does_not_fit',
      problems: ['elsewhere.yaml:9:15  steps[1].inject.device: no device "x9"'],
    });
    const empty = await t.app.inject({ method: 'POST', url: '/api/drills', headers: t.otto, payload: {} });
    expect([empty.statusCode, json(empty).message]).toEqual([400, 'body.scenario: is required']);
    const extra = await t.app.inject({
      method: 'POST',
      url: '/api/drills',
      headers: t.otto,
      payload: { scenario: 'small-outage', speed: 10 },
    });
    expect(extra.statusCode).toBe(400);
    const none = await t.app.inject({ url: '/api/drills/drill-19990101-000000', headers: viewer });
    expect([none.statusCode, json(none).error]).toEqual([404, 'unknown_drill']);
    expect(t.drills.activeDrill()).toBeUndefined();
  });

  it('a gateway without a simulated estate lists nothing to run and refuses to start with a readable 503', async () => {
    for (const opts of [{ drills: false }, { estate: false }]) {
      const t = await withDrills(opts);
      const list = json<{ available: boolean }>(await t.app.inject({ url: '/api/drills', headers: viewer }));
      expect(list.available, JSON.stringify(opts)).toBe(false);
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/drills',
        headers: t.otto,
        payload: { scenario: 'small-outage' },
      });
      expect(res.statusCode).toBe(503);
      expect(json(res)).toEqual({
        error: 'no_estate',
        message: expect.stringMatching(
          /^此网关没有连接模拟园区，不能演练.* \/ This gateway runs no simulated estate, so it cannot run drills/,
        ),
      });
      const stop = await t.app.inject({ method: 'POST', url: '/api/drills/stop', headers: t.otto });
      expect(stop.statusCode).toBe(opts.drills === false ? 503 : 409);
    }
  });
});
