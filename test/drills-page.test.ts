import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEMO_LOGINS, type RunningDemo } from '../app/demo.js';
import { projectPath } from '../gateway/files/paths.js';
import { launchChromium, loginPage, LOOKS, screenshotPath } from './support/browser.js';
import { seriousViolations } from './support/axe.js';
import { boxedGlyphs } from './support/cjk.js';
import { startTestDemo } from './support/demo.js';
import { uniqueDb } from './support/site.js';

// The drills page (issue 18, part 4) on the demo estate, as the duty manager uses it: read
// what a scenario will do before starting it (its steps in words with their times, the
// devices, the alarms it expects by when, the playbooks), start it through a confirmation in
// the page that says alarms will be marked DRILL (Cancel starts nothing), follow the live
// scorecard, stop it, and read its report from the history.

const START = Date.parse('2026-12-01T18:00:00+08:00');
let demo: RunningDemo;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(projectPath('dist', 'dashboard', 'dashboard', 'src', 'main.js')))
    throw new Error('the dashboard is not built: run `npm run build` (npm test does it)');
  // Ten times real time: the lift sticks 3 s after the start; the 20-minute scenario runs 2 minutes, longer than the test reads it.
  // A database of its own: demo.test.ts checks what its demo stores, and the two may run side by side.
  demo = await startTestDemo({
    influxUrl: inject('influxUrl'),
    speed: 10,
    start: START,
    database: uniqueDb('drills_page'),
  });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await demo?.stop();
});

async function login(look: (typeof LOOKS)[number]): Promise<Page> {
  const duty = DEMO_LOGINS.users.find((u) => u.username === 'duty')!;
  const p = await loginPage(browser, demo.gateway.httpUrl, look, duty.username, duty.password, { bypassCSP: true });
  await p.goto(`${demo.gateway.httpUrl}/#/drills`);
  await p.waitForSelector('[data-scenario=lift-entrapment] [data-testid=scenario-timeline]');
  return p;
}

const running = async () =>
  (
    (await (
      await fetch(`${demo.gateway.httpUrl}/api/drills`, {
        headers: { authorization: `Bearer ${DEMO_LOGINS.apiToken}` },
      })
    ).json()) as { current: { id: string } | null }
  ).current;

describe('drills page', () => {
  it('says what each scenario does, asks in the page before starting, shows the live scorecard, and the report afterwards (wall, English)', async () => {
    const p = await login(LOOKS[0]);
    const card = p.locator('[data-scenario=grid-outage]');
    // The story, each step in words with its time, the alarms it expects by when, the playbooks by title.
    expect(await card.locator('h3').textContent()).toContain('Grid power cut (Tower 1)');
    expect(await card.textContent()).toContain("Tower 1's incomer loses every phase");
    const steps = await card.locator('[data-testid=scenario-timeline] tbody tr').allTextContents();
    expect(steps).toContain('01:00t1-lift-a: lift stuck, 3 passengers, between floors');
    expect(steps).toContain(
      "01:00t1-incomer: power cutA fault on the utility's 10 kV line cuts power to all of Tower 1",
    );
    expect(steps).toContain('21:00t1-incomer: power cut cleared' + 'Power returns');
    expect(await card.locator('[data-testid=scenario-timeline] th').allTextContents()).toEqual(['At', 'What']);
    const cut = card.locator('[data-testid=scenario-alarms] tr[data-kind=power_cut_external]');
    expect(await cut.locator('td').allTextContents()).toEqual([
      expect.not.stringMatching(/power_cut_external/),
      't1-incomer',
      '01:30',
    ]);
    expect(
      await card.locator('[data-testid=scenario-alarms] tr[data-kind=device_offline]').first().textContent(),
    ).toContain('muted by the lost supply above it');
    expect(await card.locator('[data-testid=scenario-playbooks] li[data-playbook=power_cut]').textContent()).not.toBe(
      'power_cut',
    );
    expect(await card.textContent()).toContain('t1-booster-pump');
    await p.screenshot({ path: screenshotPath('drills-wall-en'), fullPage: true });

    // Start asks first, in the page; Cancel starts nothing and gives the focus back.
    const lift = p.locator('[data-scenario=lift-entrapment]');
    await lift.locator('[data-testid=start-drill]').click();
    const ask = lift.locator('[data-testid=confirm-drill]');
    await ask.waitFor();
    expect(await ask.textContent()).toContain('Start the drill: Passengers trapped in a lift (Tower 2, lift B)');
    expect(await ask.textContent()).toContain('This is a drill: alarms will be marked DRILL');
    expect(await ask.getAttribute('role')).toBe('alertdialog');
    // The focus is on Start: a keyboard user answers with Enter, or Escape to cancel.
    expect(await p.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('confirm-yes');
    await p.screenshot({ path: screenshotPath('drills-confirm-wall-en') });
    await ask.locator('[data-testid=confirm-no]').click();
    await lift.locator('[data-testid=start-drill]').waitFor();
    expect(await p.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('start-drill');
    expect(await running()).toBeNull();

    await p.keyboard.press('Enter');
    await ask.waitFor();
    await p.keyboard.press('Enter');
    await p.waitForSelector('.drill-banner');
    const drill = (await running())!;
    expect(drill.id).toBeTruthy();
    // While it runs: the banner, no Start anywhere, the live scorecard with its headers.
    expect(await p.locator('[data-testid=start-drill]').count()).toBe(0);
    await p.waitForSelector('[data-testid=scorecard]');
    expect(await p.textContent('[data-testid=scorecard] h3')).toContain(drill.id);
    expect(await p.locator('[data-testid=drill-alarms] th').allTextContents()).toEqual([
      'Outcome',
      'Alarm',
      'Device',
      'Due by',
      'Raised at',
    ]);
    await p.waitForSelector('[data-testid=drill-injected] td >> text=t2-lift-b');
    await p.screenshot({ path: screenshotPath('drills-running-wall-en'), fullPage: true });
    // As the confirmation said: the drill's alarm on the board is marked DRILL.
    await p.goto(`${demo.gateway.httpUrl}/#/alarms`);
    const trapped = p.locator('[data-testid=alarm-board] tr.drill[data-alarm^="lift_entrapment:t2-lift-b"]');
    await trapped.waitFor();
    expect(await trapped.locator('.drill-tag').textContent()).toBe('DRILL');
    await p.goto(`${demo.gateway.httpUrl}/#/drills`);

    await p.click('[data-testid=stop-drill]');
    const past = p.locator(`[data-testid=drill-history] li[data-drill="${drill.id}"]`);
    await past.locator('[data-status=stopped]').waitFor();
    expect(await past.textContent()).toContain('stopped');
    // Its report stays on screen, now final.
    await p.waitForFunction(
      () => document.querySelector('[data-testid=scorecard] h3')?.textContent?.includes('· stopped') ?? false,
    );
    expect(await p.textContent('[data-testid=scorecard] h3')).toContain(drill.id);
    // The report of a past drill, from the history (GET /api/drills/:id/report).
    await p.waitForSelector('[data-testid=start-drill]');
    await p.reload();
    await p.waitForSelector('[data-testid=drill-history]');
    expect(await p.locator('[data-testid=scorecard]').count()).toBe(0);
    await past.locator('[data-testid=show-report]').click();
    await p.waitForSelector('[data-testid=scorecard]');
    expect(await p.textContent('[data-testid=scorecard] h3')).toContain(drill.id);
    expect(await p.textContent('[data-testid=drill-injected]')).toContain('t2-lift-b');
    expect(await p.textContent('[data-testid=scorecard] h3')).toContain(
      'Passengers trapped in a lift (Tower 2, lift B) · stopped',
    );
    // The alarms in words, their outcome too: not `lift_entrapment` and a bare symbol.
    const expected = await p.locator('[data-testid=drill-alarms] tr').nth(1).locator('td').allTextContents();
    expect(expected.slice(0, 3)).toEqual([
      expect.stringMatching(/^(in time|not in time|waiting)$/),
      'Passengers trapped in lift',
      't2-lift-b',
    ]);
    await p.screenshot({ path: screenshotPath('drills-report-wall-en'), fullPage: true });
    await p.context().close();
  }, 120_000);

  it('on a phone in Chinese: the scenarios and the confirmation in Chinese, no boxes, nothing wider than the screen', async () => {
    const phone = LOOKS[1];
    const p = await login(phone);
    const card = p.locator('[data-scenario=grid-outage]');
    expect(await card.locator('h3').textContent()).toContain('市电停电（1号楼）');
    expect(await card.locator('[data-testid=scenario-timeline] tbody').textContent()).toContain(
      't1-lift-a：注入电梯停梯困人，3 名乘客，非平层',
    );
    expect(await card.locator('[data-testid=scenario-timeline] th').allTextContents()).toEqual(['开始后', '内容']);
    expect(await card.textContent()).toContain('被上级失电抑制');
    const lift = p.locator('[data-scenario=lift-entrapment]');
    await lift.locator('[data-testid=start-drill]').click();
    const ask = lift.locator('[data-testid=confirm-drill]');
    await ask.waitFor();
    expect(await ask.textContent()).toContain('开始演练：电梯困人（2号楼B梯）');
    expect(await ask.textContent()).toContain('演练中的告警都将标注“演练”（DRILL）');
    expect(await ask.locator('button').allTextContents()).toEqual(['确认开始', '取消']);
    await ask.scrollIntoViewIfNeeded();
    await p.screenshot({ path: screenshotPath('drills-confirm-phone-zh') });
    await p.screenshot({ path: screenshotPath('drills-phone-zh'), fullPage: true });
    expect(await boxedGlyphs(p)).toEqual([]);
    expect(await seriousViolations(p)).toEqual([]);
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(phone.viewport.width);
    await p.keyboard.press('Escape');
    await lift.locator('[data-testid=start-drill]').waitFor();
    expect(await running()).toBeNull();
    await p.context().close();
  }, 60_000);
  it('keeps the report of the drill picked last when the one picked before answers late', async () => {
    const p = await login(LOOKS[0]);
    const c = p.context();
    const url = demo.gateway.httpUrl;
    const drill = async (scenario: string) => {
      const started = await c.request.post(`${url}/api/drills`, {
        data: { scenario },
        headers: { origin: url },
      });
      expect(started.status()).toBe(201);
      const stopped = await c.request.post(`${url}/api/drills/stop`, { headers: { origin: url } });
      expect(stopped.status()).toBe(200);
      return ((await started.json()) as { id: string }).id;
    };
    const first = await drill('grid-outage');
    const second = await drill('lift-entrapment');
    await p.reload();
    const show = (id: string) =>
      p.locator(`[data-testid=drill-history] li[data-drill="${id}"] [data-testid=show-report]`);
    await show(second).waitFor();

    // The first drill's report is held on its way until the second's is on screen.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let asked!: () => void;
    const heldAsked = new Promise<void>((r) => (asked = r));
    const held = `${url}/api/drills/${first}/report`;
    await p.route(held, async (route) => {
      asked();
      await gate;
      await route.continue();
    });
    await show(first).click();
    await heldAsked;
    await show(second).click();
    await p.waitForFunction(
      (id) => document.querySelector('[data-testid=scorecard] h3')?.textContent?.includes(id) ?? false,
      second,
    );
    const late = p.waitForResponse(held);
    release();
    await (await late).finished();
    // A round trip of the page's own, then a frame: the late answer has been taken by then.
    await p.evaluate(async () => {
      await fetch('/api/me');
      await new Promise(requestAnimationFrame);
    });
    // The report drawn is the second drill's, not the first's under the second's id.
    const title = (await p.textContent('[data-testid=scorecard] h3'))!;
    expect(title).toContain('Passengers trapped in a lift (Tower 2, lift B)');
    expect(title).not.toContain('Grid power cut');
    expect(title.split(/\s+/)).toContain(second); // word by word: the ids of one day differ by a suffix
    expect(await p.textContent('[data-testid=drill-injected]')).not.toContain('t1-');
    await c.close();
  }, 60_000);
});
