import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DrillController } from '../simulators/drill/controller.js';
import { FakeEstate, SMALL_SCENARIO } from '../simulators/scenarios/fake-estate.js';
import { parseScenarioFile } from '../simulators/scenarios/load.js';
import { main } from './cli.js';
import { drillCommand, type DrillCliIo } from './drill-cli.js';
import { PASSWORDS, TOKENS, testApi } from '../gateway/http/testing.js';
import { ManualClock } from '../gateway/ports/manual-clock.js';

// `dutyroom drill …` against a real fastify app listening on a free port (the HTTP API as the
// gateway serves it), with the drill controller on a fake estate and a clock the test moves.

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function gateway(opts: { drills?: boolean } = {}) {
  const clock = new ManualClock(Date.parse('2026-11-22T02:00:00Z'));
  const estate = new FakeEstate(clock.now());
  const drills = new DrillController({
    scenarios: [{ scenario: parseScenarioFile(SMALL_SCENARIO, 'small-outage.yaml') }],
    estate,
    clock,
  });
  const t = await testApi({ clock, ...(opts.drills === false ? {} : { drills }) });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  cleanups.push(() => t.app.close());
  const address = t.app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return { url, clock, estate, drills };
}

/** A port nothing listens on: taken from the system, then let go. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  await new Promise((ok) => server.close(ok));
  return port;
}

/** Runs the command; returns its exit code and what it printed. */
async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: DrillCliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env, fetch: (...a) => fetch(...a) };
  const code = await drillCommand(args, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('dutyroom drill', () => {
  it('lists the scenarios with what each should trigger', async () => {
    const g = await gateway();
    const r = await run(['list', '--url', g.url, '--token', TOKENS.dashboard]);
    expect(r.code, r.err).toBe(0);
    expect(r.out.split('\n')).toEqual([
      '演练场景 Drill scenarios:',
      '  small-outage             10:00  小停电 Small outage',
      '      预期报警 expected alarms: power_cut_external@t1-incomer, lift_entrapment@t1-lift-a, device_offline@t1-booster-pump (抑制 inhibited)',
      '      启动预案 playbooks: power_cut, trapped_lift',
    ]);
  });

  it('starts, shows and stops a drill as an operator (token or login); a viewer is refused with the reason', async () => {
    const g = await gateway();
    const asViewer = await run(['start', 'small-outage', '--url', g.url, '--token', TOKENS.dashboard]);
    expect([asViewer.code, asViewer.err]).toEqual([1, '权限不足 not allowed: needs role operator']);

    const started = await run([
      'start',
      'small-outage',
      '--url',
      g.url,
      '--user',
      'otto',
      '--password',
      PASSWORDS.otto,
    ]);
    expect(started.code, started.err).toBe(0);
    expect(started.out).toMatch(
      /^演练已开始 Drill started: drill-20261122-100000 — 小停电 Small outage\n {2}时长 duration 10:00; 由 by otto; 注入设备 devices: t1-incomer, t1-lift-a\n/,
    );
    const twice = await run(['start', 'small-outage'], { DUTYROOM_URL: g.url, DUTYROOM_TOKEN: TOKENS.meterbot });
    expect(twice.code).toBe(1);
    expect(twice.err).toMatch(
      /A drill is already running: drill-20261122-100000 \(small-outage, started by otto\); stop it first$/,
    );

    g.clock.advance(75_000);
    g.drills.tick();
    const status = await run(['status', '--url', g.url, '--token', TOKENS.dashboard]);
    expect(status.code, status.err).toBe(0);
    expect(status.out.split('\n')).toEqual([
      '进行中 Running: drill-20261122-100000 — 小停电 Small outage',
      '  已进行 elapsed 01:15 / 10:00; 发起人 started by otto',
      '  已执行步骤 steps applied:',
      '    • 00:00 开始  |  00:00 Start',
      '    • 01:00 t1-incomer：注入断电  |  01:00 t1-incomer: power cut',
      '    • 01:00 t1-lift-a：注入电梯停梯困人，2 名乘客，非平层，按下警铃  |  01:00 t1-lift-a: lift stuck, 2 passengers, between floors, alarm button pressed',
      '  预期 expected:',
      '    报警 alarm power_cut_external @ t1-incomer — 截止 due by 01:45',
      '    报警 alarm lift_entrapment @ t1-lift-a — 截止 due by 02:15',
      '    报警 alarm device_offline @ t1-booster-pump (抑制 inhibited) — 截止 due by 02:15',
      '    预案 playbooks: power_cut, trapped_lift',
    ]);

    g.clock.advance(5_000);
    const stopped = await run(['stop', '--url', g.url, '--token', TOKENS.meterbot]);
    expect(stopped.code, stopped.err).toBe(0);
    expect(stopped.out).toBe(
      '演练已停止 Drill stopped: drill-20261122-100000 (small-outage) after 01:20\n  已清除故障 faults cleared: t1-incomer power_cut, t1-lift-a lift_stuck',
    );
    expect(g.estate.active()).toEqual([]);
    const after = await run(['status', '--url', g.url, '--token', TOKENS.dashboard]);
    expect(after.out.split('\n')).toEqual([
      '当前没有进行中的演练 No drill is running.',
      '最近的演练 Recent drills:',
      '  drill-20261122-100000  small-outage  已停止 stopped (meterbot)  01:20  3 步 steps',
    ]);
    const none = await run(['stop', '--url', g.url, '--token', TOKENS.meterbot]);
    expect([none.code, none.err]).toEqual([1, '当前没有进行中的演练 / No drill is running']);
  });

  it('says what is wrong: no login, a bad password, an unknown scenario, a gateway without drills, no gateway at all, bad usage', async () => {
    const g = await gateway();
    expect((await run(['status', '--url', g.url])).err).toMatch(
      /^需要登录 log in: --token T, or --user U --password P \(log in first/,
    );
    const bad = await run(['status', '--url', g.url, '--user', 'otto', '--password', 'nope']);
    expect([bad.code, bad.err]).toEqual([1, expect.stringMatching(/^需要登录 log in: /)]);
    const unknown = await run(['start', 'alien-invasion', '--url', g.url, '--token', TOKENS.meterbot]);
    expect([unknown.code, unknown.err]).toEqual([
      1,
      '没有名为 "alien-invasion" 的演练场景 / No scenario "alien-invasion" (have: small-outage)',
    ]);

    const plain = await gateway({ drills: false });
    const start = await run(['start', 'small-outage', '--url', plain.url, '--token', TOKENS.meterbot]);
    expect([start.code, start.err]).toEqual([
      1,
      expect.stringMatching(/^此网关没有连接模拟园区，不能演练.*This gateway runs no simulated estate/),
    ]);
    const list = await run(['list', '--url', plain.url, '--token', TOKENS.dashboard]);
    expect([list.code, list.out]).toEqual([0, expect.stringMatching(/^此网关没有连接模拟园区/)]);

    const closed = await freePort();
    const gone = await run(['status', '--url', `http://127.0.0.1:${closed}`, '--token', TOKENS.dashboard]);
    expect([gone.code, gone.err]).toEqual([
      1,
      `无法连接网关 cannot reach the gateway at http://127.0.0.1:${closed} (ECONNREFUSED); is it running? (npm run demo, or --url)`,
    ]);

    expect((await run(['start'])).code).toBe(2);
    expect((await run(['start'])).err).toMatch(/^缺少场景名 name the scenario: dutyroom drill start SCENARIO/);
    expect((await run(['dance'])).code).toBe(2);
    expect((await run(['status', 'extra'])).code).toBe(2);
    expect((await run(['status', '--user', 'otto'])).err).toBe(
      '--user 与 --password 需同时给出 give both --user and --password',
    );
    expect((await run(['status', '--colour'])).code).toBe(2);
    expect((await run(['--help'])).code).toBe(0);
  });

  it('is reached from the dutyroom command', async () => {
    const g = await gateway();
    const logged: string[] = [];
    const original = console.log;
    console.log = (line: string) => void logged.push(line);
    try {
      expect(await main(['drill', 'list', '--url', g.url, '--token', TOKENS.dashboard])).toBe(0);
    } finally {
      console.log = original;
    }
    expect(logged[0]).toBe('演练场景 Drill scenarios:');
  });
});
