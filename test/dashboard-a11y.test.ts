import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGateway, type RunningGateway } from '../gateway/gateway.js';
import { projectPath } from '../gateway/files/paths.js';
import { launchChromium, loginPage, LOOKS, screenshotPath } from './support/browser.js';
import { seriousViolations } from './support/axe.js';
import { boxedGlyphs, fontconfigWithoutCjk, hanCount } from './support/cjk.js';
import { BRIDGE_PASSWORD, DEVICE_PASSWORD, testSite, uniqueDb } from './support/site.js';

// Issue 18, parts 7 and 8, in Chromium against a real gateway with a live leak:
// - axe-core (the maintained standard accessibility engine, the one browser devtools use)
//   finds nothing serious or critical on the alarm board and the incident page, in English
//   on the wall screen and in Chinese on a phone;
// - the duty engineer works both with the keyboard alone: Tab to the alarm's comment, type,
//   Enter acknowledges; Tab to a step's field, type, Enter records the step;
// - Chinese renders: no Han character on the page is drawn as the missing-glyph box, and the
//   same check does find boxes in a Chromium that sees no CJK font (so it would fail on a
//   stock Debian Chromium without fonts-wqy-microhei).

let gw: RunningGateway;
let browser: Browser;
let incidentId: string;

beforeAll(async () => {
  if (!existsSync(projectPath('dist', 'dashboard', 'dashboard', 'src', 'main.js')))
    throw new Error('the dashboard is not built: run `npm run build` (npm test does it)');
  gw = await startGateway({
    ...testSite({
      influxUrl: inject('influxUrl'),
      database: uniqueDb('a11y'),
      extra: 'thresholds:\n  devices: { leak-1: { leak_wet_s: 0 } }\n',
    }),
    logger: pino({ level: 'silent' }),
  });
  await gw.adapter.waitReady();
  browser = await launchChromium();
  // A leak: a critical alarm waiting for its acknowledgement, and the incident it opens.
  const bridge = await mqtt.connectAsync(gw.brokerUrl, {
    username: 'zigbee2mqtt',
    password: BRIDGE_PASSWORD,
    reconnectPeriod: 0,
  });
  await bridge.publishAsync('zigbee2mqtt/leak-1', JSON.stringify({ water_leak: true, battery: 80 }), { qos: 1 });
  await bridge.endAsync();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await gw?.stop();
});

function login(b: Browser, look: (typeof LOOKS)[number]): Promise<Page> {
  // bypassCSP: axe is injected as an inline script, which the gateway's CSP (rightly) refuses.
  return loginPage(b, gw.httpUrl, look, 'duty', DEVICE_PASSWORD, { bypassCSP: true });
}

/** Presses Tab until the focused element matches `selector`; how many presses it took. Fails if focus never gets there. */
async function tabTo(p: Page, selector: string, max = 80): Promise<number> {
  for (let i = 1; i <= max; i++) {
    await p.keyboard.press('Tab');
    if (await p.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return i;
  }
  throw new Error(`${max} presses of Tab never reached ${selector}`);
}

const leakRow = 'tr[data-alarm^="water_leak:leak-1"]';

describe('dashboard accessibility and Chinese text', () => {
  it('axe finds no serious or critical violation on the alarm board and the incident page, wall (en) and phone (zh); no Chinese character or icon is a box', async () => {
    for (const look of LOOKS) {
      const p = await login(browser, look);
      expect(await p.getAttribute('html', 'lang')).toBe(look.lang === 'zh' ? 'zh-CN' : 'en');
      await p.waitForSelector(`${leakRow} form`);
      expect(await seriousViolations(p), `alarm board, ${look.name}`).toEqual([]);
      expect(await boxedGlyphs(p), `alarm board, ${look.name}`).toEqual([]);
      await p.screenshot({ path: screenshotPath(`a11y-alarms-${look.name}`), fullPage: true });
      // The board fits the screen it is on: on a phone, one card per alarm, nothing to scroll sideways.
      expect(
        await p.evaluate(() => document.documentElement.scrollWidth),
        `alarm board width, ${look.name}`,
      ).toBeLessThanOrEqual(look.viewport.width);

      if (!incidentId) {
        const list = (await (await p.request.get(`${gw.httpUrl}/api/incidents`)).json()) as {
          incidents: { id: string; playbook: string }[];
        };
        incidentId = list.incidents.find((i) => i.playbook === 'water_leak')!.id;
      }
      await p.goto(`${gw.httpUrl}/#/incidents/${incidentId}`);
      await p.waitForSelector('[data-step=locate] form');
      expect(await seriousViolations(p), `incident page, ${look.name}`).toEqual([]);
      expect(await boxedGlyphs(p), `incident page, ${look.name}`).toEqual([]);
      await p.screenshot({ path: screenshotPath(`a11y-incident-${look.name}`), fullPage: true });
      // The Chinese page is Chinese (a check of no boxes on a page without Chinese proves nothing).
      if (look.lang === 'zh') expect(await hanCount(p)).toBeGreaterThan(30);
      await p.context().close();
    }
  });

  it("with the keyboard alone: Tab to the alarm's comment, type, Enter acknowledges; Tab to a step's field, type, Enter records it", async () => {
    const p = await login(browser, LOOKS[0]);
    await p.waitForSelector(`${leakRow} form`);
    const presses = await tabTo(p, `${leakRow} input`);
    expect(await p.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Acknowledgement comment');
    await p.keyboard.type('阀门已关 valve closed');
    await p.keyboard.press('Enter');
    await p.waitForFunction(
      (sel) => document.querySelector(sel)?.textContent?.includes('阀门已关 valve closed') ?? false,
      leakRow,
    );
    expect(await p.textContent(leakRow)).toContain('duty');
    expect(presses).toBeLessThan(40);

    await p.goto(`${gw.httpUrl}/#/incidents/${incidentId}`);
    await p.waitForSelector('[data-step=locate] form');
    await tabTo(p, '[data-step=locate] input[name=location]');
    await p.keyboard.type('B1 水泵房 pump room');
    await p.keyboard.press('Enter');
    await p.waitForSelector('[data-step=locate].done');
    expect(await p.textContent('[data-step=locate]')).toContain('B1 水泵房 pump room');
    await p.screenshot({ path: screenshotPath('a11y-keyboard-incident-wall-en'), fullPage: true });
    await p.context().close();
  });

  it('the box check finds boxes in a Chromium that sees no CJK font (a stock Debian one), so it fails without the font', async () => {
    const fontconfig = fontconfigWithoutCjk(mkdtempSync(join(tmpdir(), 'dutyroom-nocjk-')));
    const bare = await chromium.launch({
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      env: { ...process.env, FONTCONFIG_FILE: fontconfig },
    });
    try {
      const p = await login(bare, LOOKS[1]);
      await p.waitForSelector(leakRow);
      const boxed = await boxedGlyphs(p);
      const shown = await hanCount(p);
      await p.screenshot({ path: screenshotPath('cjk-missing-font-phone-zh'), fullPage: true });
      // Every Chinese character on the board is a box there: the nav, the severity, the header.
      expect(shown).toBeGreaterThan(10);
      expect(boxed.filter((b) => /\p{Script=Han}/u.test(b.char)).length).toBe(shown);
      expect(boxed.map((b) => b.char)).toEqual(expect.arrayContaining(['告', '警']));
    } finally {
      await bare.close();
    }
  });
});
