import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningDemo } from '../app/demo.js';
import { projectPath } from '../gateway/files/paths.js';
import type { Point } from '../gateway/store/driver.js';
import { writePoints } from '../gateway/store/write-points.js';
import { launchChromium, LOOKS, screenshotPath } from './support/browser.js';
import { startTestDemo } from './support/demo.js';
import { uniqueDb, waitFor } from './support/site.js';
import { systemClock } from '../gateway/ports/clock.js';

// Issue 18, part 2: the device page of the demo estate's Modbus water meter (with a valve)
// and electricity meter of flat T2-0901, on the wall screen in English and a phone in
// Chinese. Ninety days of history are written before the live readings, continuing into the
// meters' live counters, with one burst at a known UTC instant: 2026-11-19T17:00Z, which is
// 2026-11-20 01:00 in the site's zone (Asia/Shanghai) but still 11-19 in UTC.

const START = Date.parse('2026-12-01T10:00:00+08:00');
const WATER = 't2-wm-0901';
const POWER = 't2-em-0901';
const BURST = Date.parse('2026-11-19T17:00:00Z');
const DAY = 86_400_000;
const STEP = 15 * 60_000;

let demo: RunningDemo;
let browser: Browser;

/** 91 days of 15-minute readings ending where the live counter starts, walking backwards. */
function history(
  device: string,
  measurement: string,
  counterNow: number,
  reading: (ms: number) => { use: number; fields: Record<string, number> },
  counter: string,
): Point[] {
  const points: Point[] = [];
  let total = counterNow;
  for (let ms = START - STEP; ms >= START - 91 * DAY; ms -= STEP) {
    const r = reading(ms);
    points.push({
      measurement,
      tags: { device },
      fields: { ...r.fields, [counter]: Math.round(total * 1000) / 1000 },
      tsUs: ms * 1000,
    });
    total -= r.use;
  }
  return points;
}

beforeAll(async () => {
  if (!existsSync(projectPath('dist', 'dashboard', 'dashboard', 'src', 'main.js')))
    throw new Error('the dashboard is not built: run `npm run build` (npm test does it)');
  demo = await startTestDemo({
    influxUrl: inject('influxUrl'),
    speed: 1,
    start: START,
    database: uniqueDb('device_page'),
  });
  const live = (id: string, field: string) =>
    waitFor(
      () => {
        const v = demo.gateway.registry.get(id)?.lastReading?.fields[field];
        return typeof v === 'number' ? v : null;
      },
      `a first reading of ${id}`,
      30_000,
    );
  const water = history(
    WATER,
    'water_meter',
    await live(WATER, 'total_m3'),
    (ms) => ({ use: ms === BURST ? 5 : 0.01, fields: { flow_m3h: ms === BURST ? 3.2 : 0.04 } }),
    'total_m3',
  );
  const kw = (ms: number) => 0.3 + 0.9 * Math.max(0, Math.sin(((ms % DAY) / DAY) * 2 * Math.PI));
  const power = history(
    POWER,
    'electricity_meter',
    await live(POWER, 'energy_import_kwh'),
    (ms) => ({
      use: kw(ms) / 4,
      fields: { power_kw: kw(ms), voltage_l1_v: 220 + 3 * Math.sin(ms / 7_200_000), frequency_hz: 50 },
    }),
    'energy_import_kwh',
  );
  await writePoints(demo.gateway.store.driver, [...water, ...power]);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await demo?.stop();
});

async function open(
  look: (typeof LOOKS)[number],
  device: string,
  login = { username: 'duty', password: 'dutyroom-duty' },
): Promise<Page> {
  const context = await browser.newContext({ locale: look.locale, viewport: look.viewport });
  const p = await context.newPage();
  await p.goto(demo.gateway.httpUrl);
  await p.fill('input[name=username]', login.username);
  await p.fill('input[name=password]', login.password);
  await p.click('button[type=submit]');
  await p.waitForSelector('nav');
  await p.goto(`${demo.gateway.httpUrl}/#/devices/${device}`);
  await p.waitForSelector('[data-testid=charts] .device-chart canvas');
  return p;
}

const labelOf = (p: Page, field: string) => p.textContent(`[data-testid=current-values] tr[data-field=${field}] th`);
const valueOf = (p: Page, field: string) => p.textContent(`[data-testid=current-values] tr[data-field=${field}] td`);

/** Picks a range and waits for its answer from the gateway; returns that answer. */
async function pickRange(p: Page, range: string, every: string): Promise<{ status: number; rows: unknown[] }> {
  const [res] = await Promise.all([
    p.waitForResponse((r) => r.url().includes('/readings?') && r.url().includes(`every=${every}`)),
    p.click(`[data-range="${range}"]`),
  ]);
  await p.waitForSelector(`[data-testid=charts][data-every="${every}"] .device-chart canvas`);
  return { status: res.status(), rows: ((await res.json()) as { rows: unknown[] }).rows };
}

/** Moves the mouse over the chart at an instant (epoch ms) and returns the legend's texts. */
async function hover(p: Page, chart: string, ms: number): Promise<string[]> {
  const c = p.locator(`[data-chart="${chart}"]`);
  const plot = c.locator('.plot');
  // On a phone the chart may be below the fold, where a mouse cannot reach.
  await plot.scrollIntoViewIfNeeded();
  // uPlot learns of a scroll from the scroll event, which comes with the next frames.
  await p.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
  const min = Number(await plot.getAttribute('data-x-min'));
  const max = Number(await plot.getAttribute('data-x-max'));
  const over = (await c.locator('.u-over').boundingBox())!;
  const x = over.x + ((ms / 1000 - min) / (max - min)) * over.width;
  // In from the side, as a hand would: uPlot re-measures its plot when the pointer enters it.
  await p.mouse.move(over.x - 5, over.y + over.height / 2);
  await p.mouse.move(x, over.y + over.height / 2, { steps: 2 });
  // uPlot redraws its cursor and legend on the next animation frame.
  await c.locator('.u-legend .u-series .u-value').first().filter({ hasNotText: '--' }).waitFor({ timeout: 5000 });
  return c.locator('.u-legend .u-series .u-value').allTextContents();
}

describe('device page', () => {
  for (const look of LOOKS) {
    const en = look.lang === 'en';

    it(`water meter, ${look.name}: words and units in the language, use as bars and flow on its own axis, 90 days in site-zone days, the valve asks before it is sent`, async () => {
      const p = await open(look, WATER);
      expect(await p.textContent('h2')).toContain(en ? 'Water meter' : '水表');
      expect(await labelOf(p, 'total_m3')).toBe(en ? 'Total volume' : '累计流量');
      expect(await labelOf(p, 'flow_m3h')).toBe(en ? 'Flow rate' : '瞬时流量');
      expect(await labelOf(p, 'valve_open')).toBe(en ? 'Valve open' : '阀门开启');
      expect(await valueOf(p, 'total_m3')).toMatch(/^[\d,.]+ m³$/);
      expect(await valueOf(p, 'flow_m3h')).toMatch(/^-?[\d,.]+ m³\/h$/);
      expect(['yes', 'no', '是', '否']).toContain(await valueOf(p, 'valve_open'));

      // The counter as bars of its use, the flow as a line on a chart (and a y scale) of its own.
      const charts = await p.locator('[data-chart]').evaluateAll((els) =>
        els.map((e) => ({
          key: e.getAttribute('data-chart'),
          kind: e.getAttribute('data-kind'),
          fields: e.getAttribute('data-fields'),
        })),
      );
      expect(charts).toEqual([
        // No reverse flow was ever read: no empty series for it.
        { key: 'use:m³', kind: 'bars', fields: 'total_m3' },
        { key: 'level:m³/h', kind: 'lines', fields: 'flow_m3h' },
      ]);
      expect(await p.textContent('[data-chart="use:m³"] h3')).toContain(en ? 'use per 15 min' : '每15分钟用量');

      // 90 days: the database answers one row per local day.
      const started = systemClock.now();
      const ninety = await pickRange(p, '90d', '1d');
      expect(ninety.status).toBe(200);
      expect(ninety.rows.length).toBeGreaterThanOrEqual(90);
      expect(ninety.rows.length).toBeLessThanOrEqual(92);
      expect(systemClock.now() - started).toBeLessThan(15_000);
      expect(await p.textContent('[data-testid=chart-range]')).toContain('Asia/Shanghai');

      // The burst at 17:00 UTC on 11-19 is in the bar of 11-20, a Shanghai day, and the legend says so.
      const legend = await hover(p, 'use:m³', Date.parse('2026-11-20T02:00:00+08:00'));
      expect(legend[0]).toBe('2026-11-20 00:00');
      expect(Number(legend[1]!.replace(/[^\d.]/g, ''))).toBeGreaterThan(5);
      const dayBefore = await hover(p, 'use:m³', Date.parse('2026-11-19T02:00:00+08:00'));
      expect(dayBefore[0]).toBe('2026-11-19 00:00');
      expect(Number(dayBefore[1]!.replace(/[^\d.]/g, ''))).toBeLessThan(2);
      await p.screenshot({ path: screenshotPath(`device-water-${look.name}`), fullPage: true });

      // The valve: asked first; cancelled, nothing is sent.
      const commandsSent = async () =>
        (
          (await (await p.request.get(`${demo.gateway.httpUrl}/api/devices/${WATER}/commands`)).json()) as {
            commands: unknown[];
          }
        ).commands.length;
      const before = await commandsSent();
      const valve = p.locator('[data-command=valve_open]');
      await valve.locator('[data-testid=command-ask]').click();
      await valve.locator('[data-testid=confirm-command]').waitFor();
      expect(await valve.locator('[data-testid=confirm-command]').textContent()).toContain(
        en ? 'valve remotely?' : '进水阀',
      );
      await p.screenshot({ path: screenshotPath(`device-water-valve-ask-${look.name}`), fullPage: true });
      await valve.locator('[data-testid=confirm-no]').click();
      await valve.locator('[data-testid=confirm-command]').waitFor({ state: 'detached' });
      expect(await commandsSent()).toBe(before);

      if (en) {
        // Asked and confirmed: sent over Modbus, read back, recorded as done by duty.
        const wasOpen = (await valueOf(p, 'valve_open')) === 'yes';
        await valve.locator('[data-testid=command-ask]').click();
        await valve.locator('[data-testid=confirm-yes]').click();
        await p.waitForSelector('[data-testid=command-outcome].confirmed', { timeout: 20_000 });
        const log = (
          (await (await p.request.get(`${demo.gateway.httpUrl}/api/devices/${WATER}/commands`)).json()) as {
            commands: { field: string; value: unknown; by: string; outcome: string }[];
          }
        ).commands;
        expect(log).toHaveLength(before + 1);
        expect(log.at(-1) ?? log[0]).toMatchObject({
          field: 'valve_open',
          value: !wasOpen,
          by: 'duty',
          outcome: 'done',
        });
      }
    });

    it(`electricity meter, ${look.name}: energy as bars, power, voltage and frequency each on an axis of its own, in the language`, async () => {
      const p = await open(look, POWER);
      expect(await p.textContent('h2')).toContain(en ? 'Electricity meter' : '电表');
      expect(await labelOf(p, 'energy_import_kwh')).toBe(en ? 'Energy imported' : '正向有功电能');
      expect(await labelOf(p, 'voltage_l1_v')).toBe(en ? 'Voltage L1' : 'L1相电压');
      expect(await valueOf(p, 'energy_import_kwh')).toMatch(/ kWh$/);
      expect(await valueOf(p, 'voltage_l1_v')).toMatch(/ V$/);
      expect(await valueOf(p, 'power_kw')).toMatch(/ kW$/);
      await pickRange(p, '7d', '1h');
      const charts = await p
        .locator('[data-chart]')
        .evaluateAll((els) => els.map((e) => `${e.getAttribute('data-kind')} ${e.getAttribute('data-unit')}`));
      expect(charts[0]).toBe('bars kWh');
      for (const unit of ['V', 'A', 'kW', 'Hz']) expect(charts).toContain(`lines ${unit}`);
      expect(new Set(charts).size).toBe(charts.length);
      // An hour of the day at 7 days: the legend in the site's zone, the energy used in it with its unit.
      const legend = await hover(p, 'use:kWh', Date.parse('2026-11-28T12:10:00+08:00'));
      expect(legend[0]).toBe('2026-11-28 12:00');
      expect(legend[1]).toMatch(/^[\d.]+ kWh$/);
      // A viewer-free page for an operator: no command card for a meter without writable fields.
      expect(await p.locator('[data-testid=device-commands]').count()).toBe(0);
      await p.screenshot({ path: screenshotPath(`device-power-${look.name}`), fullPage: true });
    });
  }

  it('a viewer sees the valve’s state but is offered no command', async () => {
    const p = await open(LOOKS[0], WATER, { username: 'viewer', password: 'dutyroom-view' });
    expect(await labelOf(p, 'valve_open')).toBe('Valve open');
    // Once the page knows who is looking (the same wait an operator's command card has).
    await p.waitForSelector('.device-page[data-role=viewer]');
    expect(await p.locator('[data-testid=device-commands]').count()).toBe(0);
  });
});
