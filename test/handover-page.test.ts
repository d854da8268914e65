import type { BrowserContext } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { projectPath } from '../gateway/files/paths.js';
import { loginPage, LOOKS, screenshotPath } from './support/browser.js';
import { pageSite } from './support/page-site.js';
import { DEVICE_PASSWORD } from './support/site.js';

// The shift handover in Chromium, as two people do it (S003 §3.6, §4.8–4.9): the outgoing
// engineer on the wall screen (English) hands over with a note; the case stays theirs; the
// incoming engineer on a phone (Chinese) sees the handover, confirms it, and owns the case.

const site = pageSite('handover');

const login = async (look: (typeof LOOKS)[number], username: string): Promise<BrowserContext> =>
  (await loginPage(site.browser, site.gw.httpUrl, look, username, DEVICE_PASSWORD)).context();

describe('shift handover page', () => {
  it('the outgoing engineer hands over with a note, keeps the case until the incoming one confirms on a phone; the sheet prints', async () => {
    const [wall, phone] = LOOKS;
    const out = await login(wall, 'duty');
    const raised = await out.request.post(`${site.gw.httpUrl}/api/incidents`, {
      data: { playbook: 'water_leak', building: 'b1' },
      headers: { origin: site.gw.httpUrl },
    });
    expect(raised.status(), await raised.text()).toBe(201);
    const inc = (await raised.json()) as { id: string };
    await out.request.post(`${site.gw.httpUrl}/api/incidents/${inc.id}/commands`, {
      data: { type: 'acknowledge' },
      headers: { origin: site.gw.httpUrl },
    });

    const p = out.pages()[0]!;
    await p.goto(`${site.gw.httpUrl}/#/reports`);
    const card = p.locator('[data-testid=handover]');
    await card.waitFor();
    expect(await card.textContent()).toMatch(/Day shift|Night shift/);
    expect(await card.textContent()).toContain(inc.id);
    await p.selectOption('[data-testid=handover-form] select', 'relief');
    await p.fill(
      '[data-testid=handover-form] textarea',
      'B1 地下室漏水，阀门已关，待物业复查 basement leak, valve closed, check again',
    );
    await p.click('[data-testid=handover-form] button[type=submit]');
    await p.waitForSelector('[data-testid=my-handover]');
    expect(await p.textContent('[data-testid=my-handover]')).toContain('Li Relief');
    await p.screenshot({ path: screenshotPath(`handover-given-${wall.name}`), fullPage: true });
    expect(site.gw.incidents.get(inc.id).incident.owner).toBe('duty');

    const inn = await login(phone, 'relief');
    const q = inn.pages()[0]!;
    await q.goto(`${site.gw.httpUrl}/#/reports`);
    const forMe = q.locator('[data-testid=handover-for-me]');
    await forMe.waitFor();
    expect(await forMe.textContent()).toContain('交班给您');
    expect(await forMe.textContent()).toContain('basement leak, valve closed');
    await q.screenshot({ path: screenshotPath(`handover-incoming-${phone.name}`), fullPage: true });
    // The page fits the phone: nothing wider than the screen.
    expect(await q.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(phone.viewport.width);
    await q.click('[data-testid=confirm-handover]');
    await q.waitForSelector('text=已确认');
    expect(site.gw.incidents.get(inc.id).incident.owner).toBe('relief');

    const sheet = await inn.newPage();
    await sheet.goto(`${site.gw.httpUrl}/api/handovers/ho-1/sheet`);
    expect(await sheet.textContent('[data-field=status]')).toContain('已确认 confirmed');
    expect(await sheet.textContent('[data-testid=cases]')).toContain(inc.id);
    await sheet.screenshot({ path: screenshotPath('handover-sheet'), fullPage: true });
    await sheet.pdf({ path: projectPath('test-results', 'screenshots', 'handover-sheet.pdf'), format: 'A4' });
    await out.close();
    await inn.close();
  });
});
