import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGateway, type RunningGateway } from '../gateway/gateway.js';
import { projectPath } from '../gateway/files/paths.js';
import { addDays, localDate, localMidnight } from '../rules/reports/calendar.js';
import { ANOMALY_KINDS, type AnomalyKind } from '../rules/reports/meter-model.js';
import { backfillSite } from '../app/history.js';
import { BRIDGE_PASSWORD, DEVICE_PASSWORD, testSite, uniqueDb } from './support/site.js';
import { systemClock } from '../gateway/ports/clock.js';

// The duty-room page in a real headless Chromium (Debian's), against a real gateway: log
// in, see a leak raised over MQTT appear and flash, acknowledge it with a comment, switch
// language, and as a viewer see no action buttons.

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
let gw: RunningGateway;
let browser: Browser;
let site: ReturnType<typeof testSite>;

beforeAll(async () => {
  if (!existsSync(projectPath('dist', 'dashboard', 'dashboard', 'src', 'main.js')))
    throw new Error('the dashboard is not built: run `npm run build` (npm test does it)');
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}: run \`npm run setup\` (installs Debian's chromium) or set CHROMIUM`);
  site = testSite({
    influxUrl: inject('influxUrl'),
    database: uniqueDb('dashboard'),
    extra:
      '  - { id: pump-1, kind: pump, role: sump, protocol: mqtt, place: { building: b1, room: pump-room } }\nthresholds:\n  devices: { leak-1: { leak_wet_s: 0 } }\n',
  });
  gw = await startGateway({ ...site, logger: pino({ level: 'silent' }) });
  await gw.adapter.waitReady();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await gw?.stop();
});

/** Screenshots kept as artifacts of the test run (test-results/screenshots, not committed). */
async function shot(p: Page, name: string): Promise<void> {
  await p.screenshot({ path: projectPath('test-results', 'screenshots', `${name}.png`), fullPage: true });
}

async function page(opts: { locale?: string; token?: string } = {}): Promise<Page> {
  const context = await browser.newContext({
    locale: opts.locale ?? 'en-US',
    ...(opts.token ? { extraHTTPHeaders: { authorization: `Bearer ${opts.token}` } } : {}),
  });
  const p = await context.newPage();
  await p.goto(gw.httpUrl);
  return p;
}

describe('dashboard in Chromium', () => {
  it('logs in, shows a leak as it happens, flashing, and takes an acknowledgement with a comment', async () => {
    const p = await page();
    await p.fill('input[name=username]', 'duty');
    await p.fill('input[name=password]', 'wrong');
    await p.click('button[type=submit]');
    await p.waitForSelector('text=Wrong username or password');
    await p.fill('input[name=password]', DEVICE_PASSWORD);
    await p.click('button[type=submit]');
    await p.waitForSelector('text=No active alarms');

    const bridge = await mqtt.connectAsync(gw.brokerUrl, {
      username: 'zigbee2mqtt',
      password: BRIDGE_PASSWORD,
      reconnectPeriod: 0,
    });
    await bridge.publishAsync('zigbee2mqtt/leak-1', JSON.stringify({ water_leak: true, battery: 80 }), { qos: 1 });
    await bridge.endAsync();
    const row = p.locator('tr[data-alarm^="water_leak:leak-1"]');
    await row.waitFor();
    expect(await row.getAttribute('class')).toContain('flash');
    expect(await row.textContent()).toContain('leak sensor reads wet');
    expect(await row.textContent()).toContain('b1 / B1 / pump-room / leak-1');

    // Muting the sound is recorded with who did it.
    await p.click('[data-testid=mute]');
    await p.waitForSelector('text=🔇 duty');

    await row.locator('input').fill('阀门已关 valve closed');
    await row.locator('button').click();
    await p.waitForFunction(
      () => !document.querySelector('tr[data-alarm^="water_leak:leak-1"]')?.className.includes('flash'),
    );
    expect(await row.textContent()).toContain('duty');
    expect(await row.textContent()).toContain('阀门已关 valve closed');

    // The leak opened an incident with its playbook.
    await p.goto(`${gw.httpUrl}/#/incidents`);
    await p.locator('[data-testid=incidents] a').first().click();
    await p.waitForSelector('[data-step=locate]');
    expect(await p.textContent('h2')).toContain('Water leak / flooding');

    // A gateway on real devices has no estate to drill on: the drills page says so.
    await p.goto(`${gw.httpUrl}/#/drills`);
    await p.waitForSelector('text=This gateway has no simulated estate to drill on');

    // 中文
    await p.click('[data-testid=lang]');
    await p.waitForSelector('text=工程值班室');
    await p.goto(`${gw.httpUrl}/#/estate`);
    await p.waitForSelector('[data-building=b1]');
    expect(await p.textContent('header nav')).toContain('告警');
  });

  it('a viewer sees the board but no action buttons', async () => {
    const p = await page({ token: BRIDGE_PASSWORD });
    await p.waitForSelector('[data-testid=alarm-board]');
    expect(await p.locator('[data-testid=alarm-board] button').count()).toBe(0);
    expect(await p.locator('[data-testid=mute]').count()).toBe(0);
    expect(await p.textContent('header')).toContain('(viewer)');
  });

  it('shows "connection lost" at once when the gateway goes away, and recovers without a reload or duplicate alarms', async () => {
    const p = await page({ token: BRIDGE_PASSWORD });
    const rows = p.locator('tr[data-alarm^="water_leak:leak-1"]');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(1);
    await p.evaluate(() => ((window as unknown as { marker: number }).marker = 42));

    const httpPort = Number(new URL(gw.httpUrl).port);
    const mqttPort = Number(new URL(gw.brokerUrl).port);
    await gw.stop();
    await p.waitForSelector('[data-testid=link-lost]', { timeout: 10_000 });

    gw = await startGateway({ ...site, httpPort, mqttPort, logger: pino({ level: 'silent' }) });
    await p.waitForSelector('[data-testid=link-lost]', { state: 'detached', timeout: 15_000 });
    expect(await p.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42); // the same page: no reload
    await rows.first().waitFor();
    expect(await rows.count()).toBe(1); // the alarm came back from the journal once
  });

  it('works a trapped-lift incident through its steps in the UI to its printable report; a second screen sees it too', async () => {
    const lift = await mqtt.connectAsync(gw.brokerUrl, {
      username: 'lift-a',
      password: DEVICE_PASSWORD,
      reconnectPeriod: 0,
    });
    await lift.publishAsync(
      'dutyroom/testsite/lift-a/reading',
      JSON.stringify({
        floor: 7,
        direction: 'stopped',
        in_door_zone: false,
        door: 'closed',
        occupied: true,
        alarm_button: true,
        mode: 'normal',
      }),
      { qos: 1 },
    );
    const p = await page();
    await p.fill('input[name=username]', 'duty');
    await p.fill('input[name=password]', DEVICE_PASSWORD);
    await p.click('button[type=submit]');
    const second = await page({ token: BRIDGE_PASSWORD });
    await second.locator('tr[data-alarm^="lift_entrapment:lift-a"]').waitFor();
    await p.locator('tr[data-alarm^="lift_entrapment:lift-a"]').waitFor();
    await shot(p, 'alarms');

    await p.goto(`${gw.httpUrl}/#/incidents`);
    await p.locator('[data-testid=incidents] tr', { hasText: 'Trapped lift' }).locator('a').first().click();
    await p.waitForSelector('[data-step=confirm_location] form');
    // The incident's alarm, with its device, as the board left it.
    await p.locator('[data-testid=incident-alarms] li[data-alarm^="lift_entrapment:lift-a"]').waitFor();
    expect(await p.textContent('[data-testid=incident-alarms] li[data-alarm^="lift_entrapment:lift-a"]')).toContain(
      'lift-a',
    );
    const values: Record<string, string> = { time: '2026-11-22 10:05', number: '2', text: '记录 recorded' };
    for (let n = 0; ; n++) {
      const form = p.locator('[data-step] form').first();
      if ((await form.count()) === 0) break;
      expect(n, 'more forms than the playbook has steps: a step did not take its records').toBeLessThan(10);
      const step = await form.locator('xpath=..').getAttribute('data-step');
      for (const input of await form.locator('input').all()) {
        const type = (await input.getAttribute('data-kind')) ?? (await input.getAttribute('type')) ?? 'text';
        if (type === 'checkbox') await input.check();
        else await input.fill(type === 'time' ? values.time! : type === 'number' ? values.number! : values.text!);
      }
      await form.locator('button[type=submit]').click();
      // Done when its form is gone (a step the sensors closed keeps its form until its records are in).
      await p.waitForFunction((id) => !document.querySelector(`[data-step="${id}"] form`), step);
    }
    await shot(p, 'incident');
    await p.click('text=Close incident');
    await p.waitForSelector('h2 >> text=Closed');
    const id = new URL(p.url()).hash.split('/')[2]!;
    await p.goto(`${gw.httpUrl}/api/incidents/${id}/report`);
    const report = await p.textContent('body');
    for (const seen of ['Trapped lift', 'Maintenance arrived at', '2026-11-22T', '记录 recorded'])
      expect(report).toContain(seen);
    expect(report).not.toContain('missing');
    // Where it happened and which device, in words; how long; the lines to sign.
    expect(await p.textContent('[data-field=place]')).toContain('1号楼 / 1 层 / lift-a');
    expect(await p.textContent('[data-field=place]')).toContain('Building 1 / floor 1 / lift-a');
    expect(await p.textContent('[data-field=duration]')).toMatch(/\d+ min/);
    expect(await p.textContent('[data-testid=signoff]')).toContain('值班经理 Duty manager');
    await shot(p, 'report');
    // On A4 from the browser's own print: a PDF of a page or two, kept with the screenshots.
    const pdf = await p.pdf({ format: 'A4', printBackground: true });
    writeFileSync(projectPath('test-results', 'screenshots', 'incident-report.pdf'), pdf);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const pages = pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g)?.length ?? 0;
    expect(pages).toBeGreaterThanOrEqual(1);
    expect(pages).toBeLessThanOrEqual(4);
    await lift.endAsync();
  });

  it('a viewer forging an action is refused by the API; every page renders (screenshots kept)', async () => {
    const p = await page({ token: BRIDGE_PASSWORD });
    const [alarm] = (await (await p.request.get(`${gw.httpUrl}/api/alarms`)).json()).alarms as { id: string }[];
    const forged = await p.request.post(`${gw.httpUrl}/api/alarms/${encodeURIComponent(alarm!.id)}/ack`, {
      data: { comment: 'forged' },
    });
    expect(forged.status()).toBe(403);
    await p.goto(`${gw.httpUrl}/#/estate`);
    await p.waitForSelector('[data-plant=pump-1]'); // pumps, sump pits and boilers with their key values
    for (const view of ['alarms', 'estate', 'incidents', 'drills', 'reports', 'health', 'devices/wm-101', 'wall']) {
      await p.goto(`${gw.httpUrl}/#/${view}`);
      await p.waitForSelector('main > *');
      await shot(p, view.replace('/', '-'));
    }
  });

  it('makes a meter-anomaly report in the page: totals, each anomaly with its evidence and chart, downloads, the API refusing an inverted range, a stored report with a drill', async () => {
    // Twenty days of meter readings up to last midnight (site time), with anomalies planted in both meters.
    const tz = site.config.site.timezone;
    const today = localDate(systemClock.now(), tz);
    const { truth } = await backfillSite({
      config: site.config,
      driver: gw.store.driver,
      days: 20,
      end: localMidnight(today, tz),
      perKind: 1,
    });
    const planted = truth.planted.filter((x): x is typeof x & { kind: AnomalyKind } => x.kind in ANOMALY_KINDS);
    expect(planted.length).toBeGreaterThan(0);
    const from = localDate(truth.start, tz);
    const to = addDays(today, -1);

    const p = await page({ token: BRIDGE_PASSWORD });
    await p.goto(`${gw.httpUrl}/#/reports`);
    const form = p.locator('form.report-form');
    // The default period is the last 7 full days in the site's time zone.
    expect(await form.locator('input[name=from]').inputValue()).toBe(addDays(today, -7));
    expect(await form.locator('input[name=to]').inputValue()).toBe(to);
    await form.locator('input[name=from]').fill(from);
    await form.locator('input[name=to]').fill(to);
    await form.locator('select[name=building]').selectOption('b1');
    await form.locator('button[type=submit]').click();
    await p.locator('[data-testid=report-totals]').waitFor();

    const query = `from=${from}&to=${to}&building=b1`;
    const api = (await (await p.request.get(`${gw.httpUrl}/api/reports/meters?${query}`)).json()) as {
      anomalies: { meter: string; kind: AnomalyKind; evidence: { en: string } }[];
    };
    // One totals row per building and meter kind of the site.
    const meterKinds = ['water_meter', 'electricity_meter'];
    const expected = [
      ...new Set(
        site.config.devices.filter((d) => meterKinds.includes(d.kind)).map((d) => `${d.place.building}/${d.kind}`),
      ),
    ].sort();
    const rows = await p
      .locator('[data-testid=report-totals] tr[data-building]')
      .evaluateAll((trs) => trs.map((tr) => `${tr.getAttribute('data-building')}/${tr.getAttribute('data-kind')}`));
    expect(rows.sort()).toEqual(expected);
    expect(await p.textContent('[data-testid=report-totals] tr[data-kind=water_meter]')).toContain('Water');
    expect(await p.textContent('[data-testid=report-totals] tr[data-kind=water_meter]')).toContain('m³');

    // Every planted anomaly is on the page under its meter, titled as the server's catalogue says, with its evidence.
    expect(await p.locator('[data-anomaly]').count()).toBe(api.anomalies.length);
    for (const plant of planted) {
      const item = p.locator(`[data-meter="${plant.meter}"] li[data-anomaly=${plant.kind}]`).first();
      expect(await item.locator('.anomaly-title').textContent()).toBe(ANOMALY_KINDS[plant.kind].title.en);
      const evidence = api.anomalies.find((a) => a.meter === plant.meter && a.kind === plant.kind)!.evidence.en;
      expect(await item.locator('.evidence').textContent()).toBe(evidence);
    }
    for (const meter of new Set(planted.map((x) => x.meter))) {
      expect(await p.locator(`[data-meter="${meter}"] .use-chart svg rect`).count()).toBeGreaterThanOrEqual(20);
    }
    expect(await p.locator('.use-chart svg rect.flagged').count()).toBeGreaterThan(0);
    for (const table of ['anomalies', 'totals', 'daily']) {
      const href = (await p.getAttribute(`a[data-csv=${table}]`, 'href'))!;
      expect(href).toContain('format=csv');
      expect(href).toContain(`table=${table}`);
      const csv = await p.request.get(`${gw.httpUrl}${href}`);
      expect(csv.headers()['content-type']).toContain('text/csv');
    }
    expect(await p.getAttribute('[data-testid=report-printable]', 'href')).toContain('format=html');
    await shot(p, 'reports');

    // In Chinese, the same report's words.
    await p.click('[data-testid=lang]');
    await p.waitForSelector('button[type=submit] >> text=生成报告');
    expect(await p.locator(`li[data-anomaly=${planted[0]!.kind}] .anomaly-title`).first().textContent()).toBe(
      ANOMALY_KINDS[planted[0]!.kind].title.zh,
    );
    await p.click('[data-testid=lang]');

    // An inverted range: the API's own message in the card, and no report left that could be mistaken for the answer.
    await form.locator('input[name=from]').fill(to);
    await form.locator('input[name=to]').fill(from);
    await form.locator('button[type=submit]').click();
    const refusal = await p.request.get(`${gw.httpUrl}/api/reports/meters?from=${to}&to=${from}&building=b1`);
    expect(refusal.status()).toBe(400);
    const { message } = (await refusal.json()) as { message: string };
    await p.waitForSelector('[data-testid=report-error]');
    expect(await p.textContent('[data-testid=report-error]')).toContain(message);
    expect(await p.locator('[data-testid=meter-report]').count()).toBe(0);

    // A stored daily report whose day had a drill: listed, and loaded into the view with the drill banner.
    const day = (await (await p.request.get(`${gw.httpUrl}/api/reports/meters?from=${to}&to=${to}`)).json()) as Record<
      string,
      unknown
    >;
    const dir = resolve(site.baseDir, site.config.data_dir, 'reports');
    mkdirSync(dir, { recursive: true });
    const drill = {
      id: 'drill-1',
      scenario: 'pipe_burst',
      title: { zh: '爆管演练', en: 'Burst pipe drill' },
      from: localMidnight(to, tz) + 3_600_000,
      to: localMidnight(to, tz) + 7_200_000,
    };
    writeFileSync(
      resolve(dir, `meters-daily-${to}.json`),
      JSON.stringify({ schedule: 'daily', report: { ...day, drills: [drill] } }),
    );
    await p.reload();
    const stored = p.locator(`tr[data-stored="meters-daily-${to}"]`);
    await stored.waitFor();
    expect(await stored.locator('a').getAttribute('href')).toBe(
      `/api/reports/meters/stored/meters-daily-${to}?format=html`,
    );
    expect(await stored.textContent()).toContain('includes a drill');
    await stored.locator('button').click();
    await p.waitForSelector('[data-testid=report-drill]');
    expect(await p.textContent('[data-testid=report-drill]')).toContain(
      'This period includes a drill: readings include simulated events',
    );
    expect(await p.textContent('[data-testid=meter-report]')).toContain(`${to} – ${to}`);
    expect(await p.getAttribute('a[data-csv=daily]', 'href')).toBe(
      `/api/reports/meters/stored/meters-daily-${to}?format=csv&table=daily`,
    );
    await shot(p, 'reports-stored');
  });
});
