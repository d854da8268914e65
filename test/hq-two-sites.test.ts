import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startHq, type RunningHq } from '../app/hq.js';
import { startGateway, type RunningGateway } from '../gateway/gateway.js';
import { hqConfigSchema } from '../gateway/hq/config.js';
import { realTime } from '../gateway/ports/clock.js';
import { busEventSchema } from '../rules/events/schema.js';
import { eventTopics } from '../rules/events/topics.js';
import { listen } from './support/bus.js';
import { freePort, MOSQUITTO } from './support/mosquitto.js';
import { BRIDGE_HASH, BRIDGE_PASSWORD, testSite, uniqueDb, waitFor } from './support/site.js';

// Two sites, each a gateway with its embedded broker, bridged by Debian's mosquitto (one
// process per bridge: it pulls the site's topics with a persistent session at the site's
// broker and pushes them to the central mosquitto) to a central mosquitto, and the head-office
// console on the central one (persistent session, QoS 1). Cutting site A's bridge (stopping its
// process): site A keeps working, head office marks it unreachable, and once the bridge is
// back head office holds every event site A produced meanwhile, in order.

const log = pino({ level: 'silent' });

interface Mosquitto {
  port: number;
  stop(): Promise<void>;
}

async function runMosquitto(conf: string, port: number): Promise<Mosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'hq-mosquitto-'));
  const file = join(dir, 'mosquitto.conf');
  writeFileSync(file, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n${conf}`);
  if (!MOSQUITTO) throw new Error('mosquitto is not installed (Debian: apt-get install mosquitto)');
  const child: ChildProcess = spawn(MOSQUITTO, ['-c', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`mosquitto exited: ${stderr}`);
    return new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
  }, `mosquitto listening on ${port}`);
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** The bridge of one site: in from the site's broker (read-only login, persistent session), out to the central one. */
function bridgeConf(site: string, sitePort: number, centralPort: number): string {
  return `
connection ${site}-in
address 127.0.0.1:${sitePort}
remote_clientid bridge-${site}-in
remote_username hq-bridge
remote_password ${BRIDGE_PASSWORD}
bridge_protocol_version mqttv311
try_private false
cleansession false
notifications false
restart_timeout 1 2
topic dutyroom/${site}/# in 1

connection ${site}-out
address 127.0.0.1:${centralPort}
remote_clientid bridge-${site}-out
bridge_protocol_version mqttv311
try_private false
cleansession false
notifications true
notification_topic hq/bridges/${site}
restart_timeout 1 2
topic dutyroom/${site}/# out 1
`;
}

async function siteGateway(site: string): Promise<RunningGateway> {
  const { config, baseDir } = testSite({
    influxUrl: inject('influxUrl'),
    database: uniqueDb(`hq_${site.replace('-', '_')}`),
    extra: 'thresholds:\n  devices: { leak-1: { leak_wet_s: 0, leak_dry_s: 0 } }\n',
  });
  config.site.id = site;
  config.broker.accounts.push(
    { username: 'hq-bridge', password_hash: BRIDGE_HASH, publish: [], subscribe: [`dutyroom/${site}/#`] },
    { username: 'site-screen', password_hash: BRIDGE_HASH, publish: [], subscribe: [`dutyroom/${site}/#`] },
  );
  const gw = await startGateway({ config, baseDir, logger: log });
  await gw.adapter.waitReady();
  return gw;
}

const port = (url: string) => Number(new URL(url).port);

let central: Mosquitto;
let siteA: RunningGateway;
let siteB: RunningGateway;
const bridges: Record<string, Mosquitto> = {};
let hq: RunningHq;

beforeAll(async () => {
  central = await runMosquitto('', await freePort());
  [siteA, siteB] = await Promise.all([siteGateway('site-a'), siteGateway('site-b')]);
  const config = hqConfigSchema.parse({
    broker: { url: `mqtt://127.0.0.1:${central.port}`, client_id: 'hq-test' },
    sites: [
      { id: 'site-a', name: { zh: '甲小区', en: 'Site A' }, bridge_topic: 'hq/bridges/site-a' },
      { id: 'site-b', name: { zh: '乙小区', en: 'Site B' }, bridge_topic: 'hq/bridges/site-b' },
    ],
    http: { host: '127.0.0.1', port: 0 },
    api_tokens: [{ name: 'wall', token_hash: BRIDGE_HASH }],
  });
  hq = await startHq({ config, baseDir: tmpdir(), logger: log });
  await waitFor(() => hq.follower.connected(), 'head office connected');
  for (const [id, gw] of [
    ['site-a', siteA],
    ['site-b', siteB],
  ] as const)
    bridges[id] = await runMosquitto(bridgeConf(id, port(gw.brokerUrl), central.port), await freePort());
});

afterAll(async () => {
  await hq?.stop();
  await Promise.all(Object.values(bridges).map((b) => b.stop()));
  await Promise.all([siteA?.stop(), siteB?.stop()]);
  await central?.stop();
});

async function leak(gw: RunningGateway, wet: boolean): Promise<void> {
  const device = await mqtt.connectAsync(gw.brokerUrl, {
    username: 'zigbee2mqtt',
    password: BRIDGE_PASSWORD,
    reconnectPeriod: 0,
  });
  await device.publishAsync('zigbee2mqtt/leak-1', JSON.stringify({ water_leak: wet, battery: 90 }), { qos: 1 });
  await device.endAsync();
}

const api = async (path: string) => {
  const res = await hq.app.inject({ url: path, headers: { authorization: `Bearer ${BRIDGE_PASSWORD}` } });
  expect(res.statusCode).toBe(200);
  return res.json() as Record<string, unknown> & { link: { state: string; since?: number } };
};

describe('head office follows two bridged sites', () => {
  it('sees both sites, marks a cut site unreachable, and gets every event it missed, in order', async () => {
    // Site A's own record of what it published: a reader on its own broker.
    const own = await listen(siteA.brokerUrl, [eventTopics('site-a').events], {
      username: 'site-screen',
      password: BRIDGE_PASSWORD,
    });
    const ownSeqs = () => own.json(eventTopics('site-a').events).map((e) => busEventSchema.parse(e).seq);

    await Promise.all([leak(siteA, true), leak(siteB, true)]);
    for (const site of ['site-a', 'site-b']) {
      await waitFor(async () => {
        const v = await api(`/api/hq/sites/${site}`);
        return (v.alarms as { kind: string }[]).some((a) => a.kind === 'water_leak') &&
          (v.incidents as unknown[]).length > 0 &&
          v.link.state === 'reachable'
          ? v
          : undefined;
      }, `${site}'s leak, its incident and its link at head office`);
    }
    const listed = (
      await hq.app.inject({ url: '/api/hq/sites', headers: { authorization: `Bearer ${BRIDGE_PASSWORD}` } })
    ).json() as {
      sites: { site: string; counts: { realAlarms: number } }[];
    };
    expect(listed.sites.map((s) => [s.site, s.counts.realAlarms])).toEqual([
      ['site-a', 1],
      ['site-b', 1],
    ]);
    const seenBefore = await waitFor(() => {
      const s = hq.board.state('site-a')!;
      const last = s.events.at(-1)?.seq;
      return last !== undefined && last === ownSeqs().at(-1) ? last : undefined;
    }, 'head office caught up with site A');

    // Cut site A's bridge.
    const cutAt = realTime.now();
    await bridges['site-a']!.stop();
    const down = await waitFor(async () => {
      const v = await api('/api/hq/sites/site-a');
      return v.link.state === 'unreachable' ? v.link : undefined;
    }, 'site A unreachable at head office');
    expect(down).toMatchObject({ why: 'bridge_down' });
    expect(down.since).toBeGreaterThanOrEqual(cutAt);
    expect((await api('/api/hq/sites/site-b')).link.state).toBe('reachable');

    // Site A keeps working: the leak dries, is acknowledged and closes; a second leak fires.
    const firing = siteA.alarms.list().find((a) => a.kind === 'water_leak' && a.status === 'firing')!;
    await leak(siteA, false);
    await waitFor(() => siteA.alarms.get(firing.id)?.status === 'cleared', 'site A: the leak cleared');
    await siteA.alarms.acknowledge(firing.id, 'duty', 'dry again');
    await waitFor(() => siteA.alarms.get(firing.id)?.status === 'closed', 'site A: the leak closed');
    await leak(siteA, true);
    await waitFor(
      () => siteA.alarms.list().find((a) => a.kind === 'water_leak' && a.status === 'firing'),
      'site A: a second leak',
    );
    const duringCut = await waitFor(() => {
      const seqs = ownSeqs().filter((s) => s > seenBefore);
      return seqs.length >= 4 ? seqs : undefined;
    }, 'site A published while cut');
    expect(hq.board.state('site-a')!.events.filter((e) => e.seq > seenBefore)).toEqual([]);

    // The bridge comes back: head office holds every event site A produced meanwhile, in order.
    bridges['site-a'] = await runMosquitto(bridgeConf('site-a', port(siteA.brokerUrl), central.port), await freePort());
    const all = await waitFor(() => {
      const have = hq.board.state('site-a')!.events.map((e) => e.seq);
      return ownSeqs().every((s) => have.includes(s)) ? have : undefined;
    }, 'every event of site A at head office');
    expect(all).toEqual([...all].sort((a, b) => a - b));
    expect(all.filter((s) => s > seenBefore).slice(0, duringCut.length)).toEqual(duringCut);
    const back = await waitFor(async () => {
      const v = await api('/api/hq/sites/site-a');
      return v.link.state === 'reachable' ? v : undefined;
    }, 'site A reachable again');
    expect(back.missing).toEqual([]);
    // Head office's board of site A is site A's own: the leak that fired again while cut.
    const leaks = (xs: { kind: string; status: string }[]) =>
      xs.filter((a) => a.kind === 'water_leak').map((a) => a.status);
    expect(leaks(back.alarms as { kind: string; status: string }[])).toEqual(
      leaks(siteA.alarms.list().filter((a) => a.status !== 'closed')),
    );
    expect(leaks(back.alarms as { kind: string; status: string }[])).toEqual(['firing']);
    await own.client.endAsync();
  });
});
