import { existsSync } from 'node:fs';
import mqtt from 'mqtt';
import pino from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGateway, type RunningGateway } from '../gateway/gateway.js';
import { projectPath } from '../gateway/paths.js';
import { BRIDGE_PASSWORD, DEVICE_PASSWORD, testSite, uniqueDb } from './support/site.js';

// The duty-room page in a real headless Chromium (Debian's), against a real gateway: log
// in, see a leak raised over MQTT appear and flash, acknowledge it with a comment, switch
// language, and as a viewer see no action buttons.

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
let gw: RunningGateway;
let browser: Browser;
let site: ReturnType<typeof testSite>;

beforeAll(async () => {
  if (!existsSync(projectPath('dist', 'dashboard', 'main.js'))) throw new Error('the dashboard is not built: run `npm run build` (npm test does it)');
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: run \`npm run setup\` (installs Debian's chromium) or set CHROMIUM`);
  site = testSite({ influxUrl: inject('influxUrl'), database: uniqueDb('dashboard'), extra: 'thresholds:\n  devices: { leak-1: { leak_wet_s: 0 } }\n' });
  gw = await startGateway({ ...site, logger: pino({ level: 'silent' }) });
  await gw.adapter.waitReady();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await gw?.stop();
});

async function page(opts: { locale?: string; token?: string } = {}): Promise<Page> {
  const context = await browser.newContext({ locale: opts.locale ?? 'en-US', ...(opts.token ? { extraHTTPHeaders: { authorization: `Bearer ${opts.token}` } } : {}) });
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

    const bridge = await mqtt.connectAsync(gw.brokerUrl, { username: 'zigbee2mqtt', password: BRIDGE_PASSWORD, reconnectPeriod: 0 });
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
    await p.waitForFunction(() => !document.querySelector('tr[data-alarm^="water_leak:leak-1"]')?.className.includes('flash'));
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
});
