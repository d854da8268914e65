import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHq, type RunningHq } from '../app/hq.js';
import { projectPath } from '../gateway/files/paths.js';
import { hqConfigSchema } from '../gateway/hq/config.js';
import { busEventSchema, type AlarmState, type BusEvent, type IncidentState } from '../rules/events/schema.js';
import { isoAt } from '../rules/events/time.js';
import { launchChromium, screenshotPath } from './support/browser.js';
import { startMosquitto } from './support/mosquitto.js';
import { DEVICE_HASH, DEVICE_PASSWORD, waitFor } from './support/site.js';

// The head-office console's page in Chromium, at wall-screen and phone size, in English and
// Chinese: two sites on a central mosquitto, one with a real leak (its incident's first step
// overdue, escalated to head office), a drill alarm and a gap in its events; the other cut off
// (its bridge said 0). Messages are published on the central broker as the bridges would.

let broker: Awaited<ReturnType<typeof startMosquitto>>;
let hq: RunningHq;
let browser: Browser;
let pub: MqttClient;

const T0 = Date.parse('2026-12-02T08:00:00Z');
const at = (s: number) => isoAt(T0 + s * 1000, 'Asia/Shanghai');
const place = { building: 't1', room: 'pump-room', text: { zh: '1号楼 / 水泵房', en: 'Tower 1 / pump room' } };

function leak(id: string, drill: string | null): AlarmState {
  return {
    v: 1,
    site: 'huayuan',
    alarmId: id,
    kind: 'water_leak',
    title: { zh: '漏水', en: 'Water leak' },
    severity: 'critical',
    status: 'firing',
    deviceId: 'leak-1',
    place,
    drill,
    since: at(0),
    raisedAt: at(5),
    reopened: 0,
    evidence: { zh: '漏水传感器检测到水', en: 'Leak sensor is wet' },
    inhibited: false,
    silenced: false,
  };
}

const incident: IncidentState = {
  v: 1,
  site: 'huayuan',
  incidentId: 'inc-1',
  playbook: 'water_leak',
  title: { zh: '水浸', en: 'Flooding' },
  severity: 'critical',
  status: 'open',
  drill: null,
  raisedAt: at(5),
  deviceId: 'leak-1',
  place,
  alarms: [{ alarmId: 'water_leak:leak-1:1', kind: 'water_leak', deviceId: 'leak-1', cleared: false }],
  steps: [
    {
      step: 'contain',
      title: { zh: '控制水势', en: 'Contain the water' },
      role: 'duty_engineer',
      status: 'pending',
      dueAt: at(305),
      overdue: true,
      escalatedTo: ['head_office'],
    },
  ],
  tasks: [],
  overdue: 1,
};

const envelope = (seq: number, drill: string | null) => ({ v: 1 as const, site: 'huayuan', seq, at: at(seq), drill });
const EVENTS: BusEvent[] = [
  { ...envelope(1, null), source: 'alarm', change: 'firing', alarm: leak('water_leak:leak-1:1', null) },
  {
    ...envelope(2, null),
    source: 'incident',
    incidentId: 'inc-1',
    type: 'raised',
    text: { zh: '事件开启', en: 'Incident raised' },
    to: [],
    incident,
  },
  // seq 3 never arrives: a gap.
  {
    ...envelope(4, null),
    source: 'incident',
    incidentId: 'inc-1',
    type: 'escalated',
    text: { zh: '“控制水势”超时，已上报总部', en: '"Contain the water" overdue: escalated to head office' },
    to: ['head_office'],
    step: 'contain',
    level: 1,
    incident,
  },
  { ...envelope(5, 'drill-7'), source: 'alarm', change: 'firing', alarm: leak('water_leak:leak-9:2', 'drill-7') },
];

beforeAll(async () => {
  if (!existsSync(projectPath('dist', 'dashboard', 'dashboard', 'src', 'main.js')))
    throw new Error('the dashboard is not built: run `npm run build` (npm test does it)');
  broker = await startMosquitto();
  const config = hqConfigSchema.parse({
    broker: { url: broker.url, client_id: 'hq-page' },
    sites: [
      { id: 'huayuan', name: { zh: '华苑小区', en: 'Huayuan Estate' }, bridge_topic: 'hq/bridges/huayuan' },
      { id: 'binjiang', name: { zh: '滨江广场', en: 'Binjiang Plaza' }, bridge_topic: 'hq/bridges/binjiang' },
    ],
    http: { host: '127.0.0.1', port: 0 },
    users: [{ username: 'hq-duty', name: { zh: '总部值班', en: 'HQ duty' }, password_hash: DEVICE_HASH }],
  });
  hq = await startHq({ config, baseDir: tmpdir(), logger: pino({ level: 'silent' }) });
  await waitFor(() => hq.follower.connected(), 'head office connected');
  pub = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  const status = (site: string) => JSON.stringify({ v: 1, site, state: 'online', at: at(0), firstSeq: 1 });
  await pub.publishAsync('dutyroom/huayuan/status', status('huayuan'), { qos: 1, retain: true });
  await pub.publishAsync('dutyroom/binjiang/status', status('binjiang'), { qos: 1, retain: true });
  await pub.publishAsync('hq/bridges/huayuan', '1', { qos: 1, retain: true });
  for (const e of EVENTS)
    await pub.publishAsync('dutyroom/huayuan/events', JSON.stringify(busEventSchema.parse(e)), { qos: 1 });
  await pub.publishAsync('hq/bridges/binjiang', '0', { qos: 1, retain: true });
  await waitFor(
    () =>
      hq.board.state('huayuan')!.events.length === EVENTS.length && hq.board.state('binjiang')!.bridge?.up === false,
    'the board filled',
  );
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await pub?.endAsync();
  await hq?.stop();
  await broker?.stop();
});

const LOOKS = [
  { locale: 'en-US', viewport: { width: 1920, height: 1080 }, name: 'hq-wall-en' },
  { locale: 'zh-CN', viewport: { width: 1920, height: 1080 }, name: 'hq-wall-zh' },
  { locale: 'en-US', viewport: { width: 390, height: 844 }, name: 'hq-phone-en' },
  { locale: 'zh-CN', viewport: { width: 390, height: 844 }, name: 'hq-phone-zh' },
] as const;

async function open(look: (typeof LOOKS)[number]): Promise<Page> {
  const context = await browser.newContext({ locale: look.locale, viewport: look.viewport });
  const p = await context.newPage();
  const errors: string[] = [];
  p.on('pageerror', (e) => errors.push(e.message));
  p.on('response', (r) => void (r.status() >= 400 && errors.push(`${r.status()} ${new URL(r.url()).pathname}`)));
  await p.goto(hq.httpUrl);
  await p.fill('input[name=username]', 'hq-duty');
  await p.fill('input[name=password]', DEVICE_PASSWORD);
  await p.click('button[type=submit]');
  await p.waitForSelector('[data-testid=hq-site-binjiang]');
  // Only the question "who is signed in?" before the login is refused.
  expect(errors).toEqual(['401 /api/me']);
  return p;
}

describe('head-office console page', () => {
  for (const look of LOOKS)
    it(`shows each site's link, alarms, overdue steps, drills and escalations (${look.name})`, async () => {
      const p = await open(look);
      const zh = look.locale === 'zh-CN';
      const hua = (await p.locator('[data-testid=hq-site-huayuan]').textContent())!;
      const bin = (await p.locator('[data-testid=hq-site-binjiang]').textContent())!;
      expect(hua).toContain(zh ? '华苑小区' : 'Huayuan Estate');
      expect(hua).toContain(zh ? '连接正常' : 'Reachable');
      expect(hua).toContain(zh ? '控制水势' : 'Contain the water');
      expect(hua).toContain(zh ? '已超时' : 'Overdue');
      expect(hua).toContain(zh ? '上报总部' : 'Escalated to head office');
      expect(hua).toMatch(zh ? /缺失事件: #3/ : /Events missing: #3/);
      // The drill's alarm is shown and marked, after the real one.
      const alarms = await p.locator('[data-testid=hq-site-huayuan] .hq-alarms li').allTextContents();
      expect(alarms).toHaveLength(2);
      expect(alarms[0]).not.toContain(zh ? '演练' : 'DRILL');
      expect(alarms[1]).toContain(zh ? '演练' : 'DRILL');
      expect(bin).toMatch(zh ? /无法连接.*自.*桥接已断开/ : /Unreachable.*since.*the bridge is down/);
      // Nothing spills past the screen's width.
      const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await p.screenshot({ path: screenshotPath(look.name), fullPage: true });
      await p.context().close();
    });

  it('follows a change live: the bridge back, the site reachable without a reload', async () => {
    const p = await open(LOOKS[0]);
    const link = p.locator('[data-testid=hq-site-binjiang] [data-testid=hq-link]');
    expect(await link.textContent()).toContain('Unreachable');
    await pub.publishAsync('hq/bridges/binjiang', '1', { qos: 1, retain: true });
    await p.waitForFunction(
      () => document.querySelector('[data-testid=hq-site-binjiang] [data-testid=hq-link]')?.textContent === 'Reachable',
    );
    await p.context().close();
  });
});
