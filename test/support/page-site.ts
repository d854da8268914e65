import { existsSync } from 'node:fs';
import pino from 'pino';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, inject } from 'vitest';
import { startGateway, type RunningGateway } from '../../gateway/gateway.js';
import { projectPath } from '../../gateway/files/paths.js';
import { launchChromium } from './browser.js';
import { testSite, uniqueDb } from './site.js';

/**
 * The test site's gateway (its own database, named after `name`) and a Chromium, for a file
 * of page tests: started before its tests, stopped after them. Read them inside the tests.
 */
export function pageSite(name: string): { readonly gw: RunningGateway; readonly browser: Browser } {
  let gw: RunningGateway | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    if (!existsSync(projectPath('dist', 'dashboard', 'dashboard', 'src', 'main.js')))
      throw new Error('the dashboard is not built: run `npm run build` (npm test does it)');
    gw = await startGateway({
      ...testSite({ influxUrl: inject('influxUrl'), database: uniqueDb(name) }),
      logger: pino({ level: 'silent' }),
    });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
  });
  const started = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`the page test's ${what} did not start`);
    return v;
  };
  return {
    get gw() {
      return started(gw, 'gateway');
    },
    get browser() {
      return started(browser, 'browser');
    },
  };
}
