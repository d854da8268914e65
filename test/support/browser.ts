import { chromium, type Browser, type Page } from 'playwright-core';
import { projectPath } from '../../gateway/files/paths.js';

/** Debian's Chromium, headless, quiet (no network of its own, no sandbox in CI containers). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
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
  });
}

/** How the duty room looks at a page: the wall screen in English, an engineer's phone in Chinese. */
export const LOOKS = [
  { locale: 'en-US', viewport: { width: 1920, height: 1080 }, name: 'wall-en', lang: 'en' },
  { locale: 'zh-CN', viewport: { width: 390, height: 844 }, name: 'phone-zh', lang: 'zh' },
] as const;

/** Where screenshots are kept (artifacts of the run, not committed). */
export function screenshotPath(name: string): string {
  return projectPath('test-results', 'screenshots', `${name}.png`);
}

/** A new browser context at `look`'s size and language, logged in to the gateway's page as `username`. */
export async function loginPage(
  browser: Browser,
  url: string,
  look: (typeof LOOKS)[number],
  username: string,
  password: string,
  opts: { bypassCSP?: boolean } = {},
): Promise<Page> {
  const context = await browser.newContext({
    locale: look.locale,
    viewport: look.viewport,
    ...(opts.bypassCSP ? { bypassCSP: true } : {}),
  });
  const p = await context.newPage();
  await p.goto(url);
  await p.fill('input[name=username]', username);
  await p.fill('input[name=password]', password);
  await p.click('button[type=submit]');
  await p.waitForSelector('nav');
  return p;
}
