import type { BrowserContext } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { loginPage, LOOKS, screenshotPath } from './support/browser.js';
import { PNG } from '../gateway/incidents/photos.testing.js';
import { pageSite } from './support/page-site.js';
import { DEVICE_PASSWORD } from './support/site.js';

// The records the plans demand, filled in on the incident page as a duty engineer would (S001
// 篇3 电梯困人 5–7, 9): a fire engine called without the approval is refused naming what is
// missing; with it, the entry is kept and shown in words. A heating repair estimated small
// shows its resident notice as not applicable, with the reason.

const site = pageSite('records');

const login = async (look: (typeof LOOKS)[number]): Promise<BrowserContext> =>
  (await loginPage(site.browser, site.gw.httpUrl, look, 'duty', DEVICE_PASSWORD)).context();

describe('incident records on the page', () => {
  for (const look of LOOKS) {
    it(`police, fire and ambulance as entries with the approval; a heating notice not applicable, with the reason (${look.name})`, async () => {
      const c = await login(look);
      const post = (path: string, data: unknown) =>
        c.request.post(`${site.gw.httpUrl}${path}`, { data, headers: { origin: site.gw.httpUrl } });
      const lift = (await (await post('/api/incidents', { playbook: 'trapped_lift', building: 'b1' })).json()) as {
        id: string;
      };
      const p = c.pages()[0]!;
      await p.goto(`${site.gw.httpUrl}/#/incidents/${lift.id}`);
      const rescue = p.locator('[data-step=rescue]');
      await rescue.waitFor();
      // Times are the site's 24-hour wall clock; a required one starts at now, any other is one tap away.
      const reported = p.locator('[data-step=confirm_location] input[name=reported_at]');
      expect(await reported.inputValue()).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
      const arrived = p.locator('[data-step=comfort_passengers] input[name=engineering_on_site_at]');
      expect(await arrived.inputValue()).toBe('');
      await p.locator('[data-step=comfort_passengers] button.now').nth(1).click();
      expect(await arrived.inputValue()).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
      await rescue.locator('[data-testid=add-emergency_services]').click();
      await rescue.locator('select[name="emergency_services.0.service"]').selectOption('fire');
      await rescue.locator('input[name="emergency_services.0.called_at"]').fill('2026-12-02 10:15');
      await rescue.locator('input[name="rescue_completed_at"]').fill('2026-12-02 10:25');
      await rescue.locator('button[type=submit]').click();
      const error = p.locator('[data-testid=incident-error]');
      await error.waitFor();
      expect(await error.textContent()).toMatch(/emergency_services\[0\] needs: reason .*approved_by .*approved_at/);
      await rescue.locator('input[name="emergency_services.0.reason"]').fill('维保未到 maintenance not here');
      await rescue.locator('input[name="emergency_services.0.approved_by"]').fill('王总 GM Wang');
      await rescue.locator('input[name="emergency_services.0.approved_at"]').fill('2026-12-02 10:14');
      await rescue.locator('input[name="emergency_services.0.vehicle"]').fill('粤A-119');
      await rescue.locator('[data-testid=add-emergency_services]').click();
      await rescue.locator('select[name="emergency_services.1.service"]').selectOption('ambulance');
      await rescue.locator('input[name="emergency_services.1.called_at"]').fill('2026-12-02 10:16');
      await p.screenshot({ path: screenshotPath(`incident-records-form-${look.name}`), fullPage: true });
      await rescue.locator('button[type=submit]').click();
      const invalid = await p.evaluate(() =>
        Array.from(document.querySelectorAll('[data-step=rescue] input'))
          .filter((i) => !(i as HTMLInputElement).checkValidity())
          .map((i) => `${(i as HTMLInputElement).name}=${(i as HTMLInputElement).value}`),
      );
      expect(invalid).toEqual([]);
      await rescue
        .locator('[data-closed-by=person]')
        .waitFor({ timeout: 5000 })
        .catch(async () => {
          throw new Error(
            `not done: ${JSON.stringify(site.gw.incidents.get(lift.id).incident.steps.rescue)} page error: ${(await error.count()) ? await error.textContent() : 'none'}`,
          );
        });
      const done = await rescue.locator('[data-closed-by=person]').textContent();
      expect(done).toContain(look.lang === 'en' ? 'Fire service (119)' : '消防 119');
      expect(done).toContain('王总 GM Wang');
      expect(done).toContain(look.lang === 'en' ? 'Ambulance (120)' : '医护 120');
      const kept = site.gw.incidents.get(lift.id).incident.steps.rescue!.fields.emergency_services as Record<
        string,
        unknown
      >[];
      expect(kept.map((x) => x.service)).toEqual(['fire', 'ambulance']);
      // Typed as the site's wall clock (Asia/Shanghai), whatever the browser's zone.
      expect(kept[0]!.called_at).toBe('2026-12-02T02:15:00.000Z');

      // A photo from the scene, from the phone's camera: kept, on the timeline with its picture.
      await p.setInputFiles('[data-testid=photo-form] input[type=file]', {
        name: 'lift.png',
        mimeType: 'image/png',
        buffer: PNG,
      });
      await p.fill('[data-testid=photo-form] input[name=caption]', '轿厢门 car door');
      await p.click('[data-testid=photo-form] button[type=submit]');
      const photo = p.locator('[data-testid=timeline] tr[data-event=photo] img.photo');
      await photo.waitFor();
      // Its width once the browser has fetched it (the row can be there before the picture is).
      const width = await photo.evaluate(async (img: HTMLImageElement) => {
        await img.decode().catch(() => undefined);
        return img.naturalWidth;
      });
      expect(width).toBe(1);
      expect(await p.locator('[data-testid=timeline] tr[data-event=photo]').textContent()).toContain('轿厢门 car door');

      const heat = (await (await post('/api/incidents', { playbook: 'heating_outage', building: 'b1' })).json()) as {
        id: string;
      };
      await post(`/api/incidents/${heat.id}/commands`, {
        type: 'complete_step',
        step: 'assess',
        fields: { needs_shutdown: false },
      });
      await post(`/api/incidents/${heat.id}/commands`, {
        type: 'complete_step',
        step: 'estimate',
        fields: { repair_hours: 3, households: 20 },
      });
      await p.goto(`${site.gw.httpUrl}/#/incidents/${heat.id}`);
      const notice = p.locator('[data-step=notify_residents] [data-skipped]');
      await notice.waitFor();
      expect(await notice.textContent()).toContain(
        look.lang === 'en'
          ? 'Does not apply: Repair of 8 h or less and 50 households or fewer: no 2-hour notice to residents'
          : '不适用: 预计修复不超过 8 小时且受影响不超过 50 户，无需 2 小时内通知业主',
      );
      expect(await p.locator('[data-step=notify_residents] form').count()).toBe(0);
      await p.screenshot({ path: screenshotPath(`incident-heating-skipped-${look.name}`), fullPage: true });
      expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(look.viewport.width);
      await c.close();
    });
  }
});
