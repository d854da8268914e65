import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { loginPage, LOOKS } from './support/browser.js';
import { pageSite } from './support/page-site.js';
import { DEVICE_PASSWORD } from './support/site.js';

// Going from one case (or device) to another on the page: an answer about the one left behind
// that comes after the new one's must not be drawn. It would put a trapped lift's steps under a
// heating case's id, or a lift's values under a meter's name, and the buttons on them would act
// on the one the address names.

const site = pageSite('switch');

/**
 * Opens `from`, holds the page's GET of `held` until `to` is shown (its `ready` element), then
 * lets the held answer through and returns once the page has had its turns to take it.
 */
async function leaveThenAnswer(page: Page, from: string, held: string, to: string, ready: string): Promise<void> {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let asked!: () => void;
  const heldAsked = new Promise<void>((r) => (asked = r));
  await page.route(`${site.gw.httpUrl}${held}`, async (route) => {
    asked();
    await gate;
    await route.continue();
  });
  await page.goto(`${site.gw.httpUrl}/#${from}`);
  await heldAsked;
  await page.goto(`${site.gw.httpUrl}/#${to}`);
  await page.locator(ready).waitFor();
  const late = page.waitForResponse(`${site.gw.httpUrl}${held}`);
  release();
  await (await late).finished();
  // A round trip of the page's own, then a frame: the late answer has been taken by then.
  await page.evaluate(async () => {
    await fetch('/api/me');
    await new Promise(requestAnimationFrame);
  });
}

describe('switching cases and devices on the page', () => {
  it('keeps the case the address names when the one left behind answers late', async () => {
    const page = await loginPage(site.browser, site.gw.httpUrl, LOOKS[0], 'duty', DEVICE_PASSWORD);
    const c = page.context();
    const open = async (playbook: string) =>
      (
        (await (
          await c.request.post(`${site.gw.httpUrl}/api/incidents`, {
            data: { playbook, building: 'b1' },
            headers: { origin: site.gw.httpUrl },
          })
        ).json()) as { id: string }
      ).id;
    const lift = await open('trapped_lift');
    const heat = await open('heating_outage');

    const title = page.locator('main h2');
    await leaveThenAnswer(
      page,
      `/incidents/${lift}`,
      `/api/incidents/${lift}`,
      `/incidents/${heat}`,
      '[data-step=notify_residents]',
    );
    expect(await title.textContent()).toContain(heat);
    expect(await title.textContent()).not.toContain(lift);
    expect(await page.locator('[data-step=rescue]').count()).toBe(0);
    await c.close();
  });

  it('keeps the device the address names when the one left behind answers late', async () => {
    const page = await loginPage(site.browser, site.gw.httpUrl, LOOKS[0], 'duty', DEVICE_PASSWORD);
    await leaveThenAnswer(page, '/devices/lift-a', '/api/devices/lift-a', '/devices/wm-101', '[data-device=wm-101]');
    expect(await page.locator('main h2').textContent()).toContain('wm-101');
    expect(await page.locator('[data-device]').getAttribute('data-device')).toBe('wm-101');
    await page.context().close();
  });
});
