import { existsSync } from 'node:fs';
import pino from 'pino';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGateway, type RunningGateway } from '../gateway/gateway.js';
import { projectPath } from '../gateway/files/paths.js';
import { launchChromium, loginPage, LOOKS } from './support/browser.js';
import { DEVICE_PASSWORD, testSite, uniqueDb } from './support/site.js';

// Going from one case to another on the incident page: an answer about the case left behind
// that comes after the new case's must not be drawn. It would put a trapped lift's steps under
// a heating case's id, and the buttons on them would act on the heating case.

let gw: RunningGateway;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(projectPath('dist', 'dashboard', 'dashboard', 'src', 'main.js')))
    throw new Error('the dashboard is not built: run `npm run build` (npm test does it)');
  gw = await startGateway({
    ...testSite({ influxUrl: inject('influxUrl'), database: uniqueDb('switch') }),
    logger: pino({ level: 'silent' }),
  });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await gw?.stop();
});

describe('switching cases on the incident page', () => {
  it('keeps the case the address names when the one left behind answers late', async () => {
    const page = await loginPage(browser, gw.httpUrl, LOOKS[0], 'duty', DEVICE_PASSWORD);
    const c = page.context();
    const open = async (playbook: string) =>
      (
        (await (
          await c.request.post(`${gw.httpUrl}/api/incidents`, {
            data: { playbook, building: 'b1' },
            headers: { origin: gw.httpUrl },
          })
        ).json()) as { id: string }
      ).id;
    const lift = await open('trapped_lift');
    const heat = await open('heating_outage');

    // The lift case's answer is held until the heating case is on screen.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let asked!: () => void;
    const liftAsked = new Promise<void>((r) => (asked = r));
    await page.route(`${gw.httpUrl}/api/incidents/${lift}`, async (route) => {
      asked();
      await held;
      await route.continue();
    });
    await page.goto(`${gw.httpUrl}/#/incidents/${lift}`);
    await liftAsked;
    await page.goto(`${gw.httpUrl}/#/incidents/${heat}`);
    const title = page.locator('main h2');
    await page.locator('[data-step=notify_residents]').waitFor();
    expect(await title.textContent()).toContain(heat);

    const late = page.waitForResponse(`${gw.httpUrl}/api/incidents/${lift}`);
    release();
    await (await late).finished();
    // The page has had its turns to take the late answer (a round trip of its own, then a frame).
    await page.evaluate(async () => {
      await fetch('/api/me');
      await new Promise(requestAnimationFrame);
    });
    expect(await title.textContent()).toContain(heat);
    expect(await title.textContent()).not.toContain(lift);
    expect(await page.locator('[data-step=rescue]').count()).toBe(0);
    await c.close();
  });
});
