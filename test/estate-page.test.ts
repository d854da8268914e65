import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEMO_LOGINS, type RunningDemo } from '../app/demo.js';
import { projectPath } from '../gateway/files/paths.js';
import { launchChromium, LOOKS, screenshotPath } from './support/browser.js';
import { startTestDemo } from './support/demo.js';
import { waitFor } from './support/site.js';

// The estate as the duty room sees it on the wall screen and on an engineer's phone, over the
// demo estate (three buildings, 200+ simulated devices): every building in section fits one
// 1920×1080 screen; a trapped lift's car sits at the floor its terminal reports; a vacant flat
// with water running is drawn as an alarm, another vacant flat as vacant; a cell opens its
// device; and when Tower 1's grid supply is cut, the incomer and its feeders are drawn lost,
// what they feed grey with the reason, and no feeder shows its last live voltage.

const START = Date.parse('2026-12-01T18:00:00+08:00');
const SPEED = 10;
const auth = { authorization: `Bearer ${DEMO_LOGINS.apiToken}` };

type DeviceJson = { id: string; online: boolean; lastReading: { fields: Record<string, unknown> } | null };
type AlarmJson = { kind: string; deviceId: string; status: string };

let demo: RunningDemo;
let browser: Browser;

async function get<T>(path: string): Promise<T> {
  return (await (await fetch(`${demo.gateway.httpUrl}${path}`, { headers: auth })).json()) as T;
}
const firing = async (kind: string, deviceId: string) =>
  (await get<{ alarms: AlarmJson[] }>('/api/alarms')).alarms.some(
    (a) => a.kind === kind && a.deviceId === deviceId && a.status === 'firing',
  );

async function openEstate(look: (typeof LOOKS)[number]): Promise<Page> {
  const context = await browser.newContext({ locale: look.locale, viewport: look.viewport });
  const p = await context.newPage();
  // The demo estate, its gateway and two Chromium pages share a two-core CI machine: give each wait room.
  p.setDefaultTimeout(60_000);
  await p.goto(demo.gateway.httpUrl);
  await p.fill('input[name=username]', 'duty');
  await p.fill('input[name=password]', 'dutyroom-duty');
  await p.click('button[type=submit]');
  await p.waitForSelector('nav');
  await p.goto(`${demo.gateway.httpUrl}/#/estate`);
  await p.waitForSelector('[data-testid=estate] [data-section=t1]');
  return p;
}

/** Where a lift's car is drawn against the row of the floor it reports (page pixels). */
function carAgainstFloor(p: Page, lift: string) {
  return p.evaluate((id) => {
    const car = document.querySelector(`[data-lift="${id}"] [data-car-floor]`)!;
    const floor = car.getAttribute('data-car-floor')!;
    const row = car.closest('[data-section]')!.querySelector(`[data-floor-row][data-level="${floor}"] .floor-band`)!;
    const c = car.getBoundingClientRect();
    const r = row.getBoundingClientRect();
    return {
      floor: Number(floor),
      level: car.getAttribute('data-level'),
      carMid: c.top + c.height / 2,
      rowTop: r.top,
      rowH: r.height,
    };
  }, lift);
}

beforeAll(async () => {
  if (!existsSync(projectPath('dist', 'dashboard', 'dashboard', 'src', 'main.js')))
    throw new Error('the dashboard is not built: run `npm run build` (npm test does it)');
  demo = await startTestDemo({ influxUrl: inject('influxUrl'), speed: SPEED, start: START });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await demo?.stop();
});

describe('the estate page', () => {
  it('draws the whole estate on one wall screen and on a phone: lifts at their floor, alarms and vacant flats, a click to the device', async () => {
    await waitFor(
      async () => (await get<{ devices: DeviceJson[] }>('/api/devices')).devices.filter((d) => d.online).length >= 200,
      'the demo estate online',
      45_000,
    );
    // A car that stays put (stuck with people inside), and water running in vacant flat 0901 of Tower 2.
    demo.estate.inject('t1-lift-a', { type: 'lift_stuck', passengers: 2 });
    demo.estate.inject('t2-wm-0901', { type: 'flow', m3h: 0.4 });
    await waitFor(() => firing('lift_entrapment', 't1-lift-a'), 'lift A of Tower 1 trapped', 30_000);
    await waitFor(() => firing('vacant_unit_flow', 't2-wm-0901'), 'water running in vacant flat t2-0901', 45_000);

    const [wall, phone] = LOOKS;
    const p = await openEstate(wall);
    await p.waitForSelector('[data-unit="t2-0901"][data-state=alarm]');
    expect(await p.getAttribute('[data-unit="t1-0302"]', 'data-state')).toBe('vacant');
    expect(await p.getAttribute('[data-unit="t1-0401"]', 'data-state')).toBe('normal');
    for (const b of ['t1', 't2', 'c3']) await p.waitForSelector(`[data-section=${b}]`);

    // All of it on the wall screen, nothing to scroll.
    const size = await p.evaluate(() => ({
      h: document.documentElement.scrollHeight,
      w: document.documentElement.scrollWidth,
      vh: innerHeight,
      vw: innerWidth,
    }));
    expect(size.h).toBeLessThanOrEqual(size.vh);
    expect(size.w).toBeLessThanOrEqual(size.vw);

    // The stuck car at the floor its terminal reports, drawn in that floor's row (half a row lower: not level).
    const reported = (await get<DeviceJson>('/api/devices/t1-lift-a')).lastReading!.fields.floor as number;
    await p.waitForSelector(
      `[data-lift="t1-lift-a"][data-state=alarm] [data-car-floor="${reported}"][data-occupied=yes]`,
    );
    const car = await carAgainstFloor(p, 't1-lift-a');
    const expectedMid = car.rowTop + car.rowH / 2 + (car.level === 'no' ? car.rowH / 2 : 0);
    expect(Math.abs(car.carMid - expectedMid)).toBeLessThan(car.rowH / 2);
    // Every lift has a car somewhere in its shaft.
    expect(await p.locator('[data-lift] [data-car-floor]').count()).toBe(8);
    await p.screenshot({ path: screenshotPath(`estate-${wall.name}`) });

    // A cell opens its device.
    await p.click('[data-unit="t1-0201"] a[data-device="t1-wm-0201"]');
    await p.waitForURL(/#\/devices\/t1-wm-0201$/);

    // On the phone, in Chinese: the same picture, narrower, nothing wider than the screen.
    const q = await openEstate(phone);
    await q.waitForSelector('[data-unit="t2-0901"][data-state=alarm]');
    expect(await q.textContent('.estate-legend')).toContain('空置');
    expect(await q.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(phone.viewport.width);
    await q.screenshot({ path: screenshotPath(`estate-${phone.name}`), fullPage: true });
    await q.context().close();

    // Tower 1's grid supply is cut: the incomer and its feeders are lost, what they feed is grey with the reason.
    await p.goto(`${demo.gateway.httpUrl}/#/estate`);
    demo.estate.inject('t1-incomer', { type: 'power_cut' });
    await waitFor(() => firing('power_cut_external', 't1-incomer'), 'the power cut raised', 30_000);
    await waitFor(
      async () => !(await get<DeviceJson>('/api/devices/t1-lift-circuit')).online,
      'the lift circuit meter dark',
      30_000,
    );
    await p.waitForSelector('[data-supply="t1-incomer"][data-state=lost]');
    await p.waitForSelector('[data-supply="t1-lift-circuit"][data-state=lost]');
    await p.waitForSelector('[data-no-supply-root="t1-incomer"] >> text=Power cut');
    expect(await p.getAttribute('[data-power=t1] [data-load="t1-lift-c"]', 'data-no-supply')).toBe('yes');
    expect(await p.getAttribute('[data-unit="t1-0401"]', 'data-state')).toBe('nopower');
    expect(await p.getAttribute('[data-room="t1-pump-room"]', 'data-state')).toBe('nopower');
    // No feeder shows the voltage it had before the cut.
    for (const feeder of ['t1-lift-circuit', 't1-pump-circuit']) {
      const text = (await p.textContent(`[data-supply="${feeder}"]`)) ?? '';
      expect(text, feeder).toContain('LOST');
      expect(text, feeder).not.toMatch(/[1-9]\d* V/);
    }
    expect(await p.textContent('[data-power=t1]')).not.toMatch(/\b2\d\d V/);
    // The trapped lift stays an alarm: nothing greys out a trapped passenger.
    expect(await p.getAttribute('[data-lift="t1-lift-a"]', 'data-state')).toBe('alarm');
    // Tower 2 keeps its supply.
    expect(await p.getAttribute('[data-supply="t2-incomer"]', 'data-state')).toBe('live');
    // The reason line above the section still leaves the estate on one screen.
    expect(await p.evaluate(() => document.documentElement.scrollHeight <= innerHeight)).toBe(true);
    await p.screenshot({ path: screenshotPath(`estate-power-lost-${wall.name}`) });
    await p.context().close();
    demo.estate.clearAll();
  }, 240_000);
});
