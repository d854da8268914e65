import { existsSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEMO_LOGINS, type RunningDemo } from '../app/demo.js';
import { projectPath } from '../gateway/files/paths.js';
import { launchChromium, LOOKS, screenshotPath } from './support/browser.js';
import { startTestDemo } from './support/demo.js';
import { waitFor } from './support/site.js';

// Issue 17, part 5, end to end on the demo estate: the vacant-unit-leak drill runs a tap in
// vacant flat T2-0901, whose meter is a Modbus one with a valve. The water keeps running
// until the duty engineer, on the incident's close_valve step, presses "Close valve" and
// confirms it in the page. The command goes through the gateway's Modbus line to the
// simulated converter over TCP, the simulated meter shuts its valve, the read-back confirms
// it, and the timeline says so in both languages; the meter's next readings show no flow and
// the step closes on that evidence. Asking without confirmation is refused and sends nothing.
// Pages as the duty room sees them: the wall screen in English, a phone in Chinese.

const START = Date.parse('2026-12-01T10:00:00+08:00');
// Five simulated seconds a second: the gateway's Modbus timeouts shrink by the same factor
// (1000 ms → 200 ms real), which a loaded two-core machine running Chromium still answers.
const SPEED = 5;
const METER = 't2-wm-0901';
const auth = { authorization: `Bearer ${DEMO_LOGINS.apiToken}` };

type Event = { type: string; at: number; outcome?: string; deviceId?: string; by?: string; readBack?: unknown };
type IncidentJson = {
  id: string;
  playbook: string;
  deviceId?: string;
  drill?: string;
  status: string;
  steps: Record<string, { status: string; by?: string }>;
  timeline: Event[];
};

let demo: RunningDemo;

beforeAll(async () => {
  if (!existsSync(projectPath('dist', 'dashboard', 'dashboard', 'src', 'main.js')))
    throw new Error('the dashboard is not built: run `npm run build` (npm test does it)');
  demo = await startTestDemo({ influxUrl: inject('influxUrl'), speed: SPEED, start: START });
}, 90_000);

afterAll(async () => {
  await demo?.stop();
});

const get = async <T>(path: string): Promise<T> =>
  (await (await fetch(`${demo.gateway.httpUrl}${path}`, { headers: auth })).json()) as T;

async function login(context: BrowserContext): Promise<Page> {
  const p = await context.newPage();
  await p.goto(demo.gateway.httpUrl);
  await p.fill('input[name=username]', 'duty');
  await p.fill('input[name=password]', 'dutyroom-duty');
  await p.click('button[type=submit]');
  await p.waitForSelector('nav');
  return p;
}

describe('closing a vacant flat’s valve from its incident (vacant-unit-leak drill)', () => {
  it('offers Close valve on close_valve, asks, sends it over Modbus, reads it back onto the timeline; the water stops and the step closes on the meter', async () => {
    const login0 = await fetch(`${demo.gateway.httpUrl}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'duty', password: 'dutyroom-duty' }),
    });
    const cookie = login0.headers.getSetCookie()[0]!.split(';')[0]!;
    const post = (path: string, body: unknown) =>
      fetch(`${demo.gateway.httpUrl}${path}`, {
        method: 'POST',
        headers: { cookie, origin: demo.gateway.httpUrl, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    const started = await post('/api/drills', { scenario: 'vacant-unit-leak' });
    expect(started.status, await started.clone().text()).toBe(201);
    const drill = (await started.json()) as { id: string };
    const incident = await waitFor(
      async () =>
        (await get<{ incidents: IncidentJson[] }>('/api/incidents?status=open')).incidents.find(
          (i) => i.playbook === 'vacant_unit_flow' && i.deviceId === METER,
        ) ?? null,
      'the vacant-unit incident on the Modbus meter',
      60_000,
    );
    expect(incident.drill).toBe(drill.id);
    const offered = await get<{ commands: { deviceId: string; command: string; step?: string }[] }>(
      `/api/incidents/${incident.id}/device-commands`,
    );
    expect(offered.commands).toEqual([
      expect.objectContaining({ deviceId: METER, command: 'close_valve', step: 'close_valve' }),
    ]);

    // Left alone, the water runs: several polls after the alarm, still flowing.
    const flowing = await waitFor(
      () => {
        const r = demo.gateway.registry.get(METER)?.lastReading;
        return r && Date.parse(r.ts) > incident.timeline[0]!.at + 60_000 ? r : null;
      },
      'a reading a simulated minute after the alarm',
      30_000,
    );
    expect(flowing.fields.flow_m3h).toBeGreaterThan(0.3);
    expect(flowing.fields.valve_open).toBe(true);

    // Without the confirmation: refused, nothing sent, nothing on the timeline.
    const converter = demo.modbus.deviceAt(METER)!;
    const writes = () =>
      converter.server.requests(converter.unitId).filter((r) => r.function === 5 || r.function === 15);
    const unconfirmed = await post(`/api/incidents/${incident.id}/device-command`, {
      device: METER,
      command: 'close_valve',
    });
    expect(unconfirmed.status).toBe(400);
    expect(((await unconfirmed.json()) as { error: string }).error).toBe('confirm_required');
    expect(writes()).toEqual([]);

    const browser = await launchChromium();
    try {
      const [wall, phone] = LOOKS;
      // The engineer's phone, in Chinese: the button, the question, and "cancel" sends nothing.
      const phonePage = await login(await browser.newContext({ locale: phone.locale, viewport: phone.viewport }));
      await phonePage.goto(`${demo.gateway.httpUrl}/#/incidents/${incident.id}`);
      const phoneStep = phonePage.locator('[data-step=close_valve]');
      await phoneStep.locator('[data-testid=device-command]').click();
      await phoneStep.locator('[data-testid=confirm-command]').waitFor();
      expect(await phoneStep.locator('[data-testid=confirm-command]').textContent()).toContain(
        '确认远程关闭该户进水阀',
      );
      expect(await phoneStep.locator('[data-testid=confirm-yes]').textContent()).toBe('确认关阀');
      await phonePage.screenshot({ path: screenshotPath(`incident-valve-ask-${phone.name}`), fullPage: true });
      await phoneStep.locator('[data-testid=confirm-no]').click();
      await phoneStep.locator('[data-testid=confirm-command]').waitFor({ state: 'detached' });
      expect(writes()).toEqual([]);

      // The wall screen, in English: Close valve → the question → yes.
      const wallPage = await login(await browser.newContext({ locale: wall.locale, viewport: wall.viewport }));
      await wallPage.goto(`${demo.gateway.httpUrl}/#/incidents/${incident.id}`);
      const step = wallPage.locator('[data-step=close_valve]');
      const button = step.locator('[data-testid=device-command]');
      expect(await button.textContent()).toBe(`Close valve · ${METER}`);
      await button.click();
      expect(await step.locator('[data-testid=confirm-command]').textContent()).toContain(
        "Close this flat's water valve remotely?",
      );
      await wallPage.screenshot({ path: screenshotPath(`incident-valve-ask-${wall.name}`), fullPage: true });
      await step.locator('[data-testid=confirm-yes]').click();
      // The device's answer, whichever it is (a failure then says what the timeline says).
      await step.locator('[data-outcome]:not([data-outcome=sent])').waitFor({ timeout: 30_000 });
      const answered = (
        await get<{ timeline: { type: string; text: { en: string } }[] }>(`/api/incidents/${incident.id}`)
      ).timeline
        .filter((e) => e.type === 'device_command')
        .map((e) => e.text.en);
      expect(await step.locator('[data-outcome]').getAttribute('data-outcome'), answered.join(' / ')).toBe('confirmed');
      expect(await step.locator('[data-outcome=confirmed]').textContent()).toContain(
        'Close valve: confirmed by the read-back · duty',
      );
      await wallPage
        .locator('[data-testid=timeline] tr[data-event=device_command]', { hasText: 'read back' })
        .waitFor();
      const words = await wallPage.locator('[data-testid=timeline] tr[data-event=device_command]').allTextContents();
      expect(words.join('\n')).toContain(`duty sent a command to ${METER}: close the valve`);
      expect(words.join('\n')).toContain(`${METER} read back: close the valve confirmed (valve_open = false)`);

      // It went over the wire to the simulated converter: one coil write, answered.
      expect(writes()).toEqual([
        expect.objectContaining({ function: 5, start: 0, count: 1, outcome: 'data', values: [false] }),
      ]);
      const afterCommand = await get<{ incident: IncidentJson }>(`/api/incidents/${incident.id}`);
      expect(
        afterCommand.incident.timeline
          .filter((e) => e.type === 'device_command')
          .map((e) => [e.outcome, e.deviceId, e.by]),
      ).toEqual([
        ['sent', METER, 'duty'],
        ['confirmed', METER, 'duty'],
      ]);
      // Whoever acts first owns the case.
      expect((afterCommand.incident as IncidentJson & { owner?: string }).owner).toBe('duty');
      const commandAt = afterCommand.incident.timeline.find((e) => e.type === 'device_command')!.at;

      // The simulated meter acts on it: its next polled readings show the valve shut and no flow.
      const stopped = await waitFor(
        () => {
          const r = demo.gateway.registry.get(METER)?.lastReading;
          return r && Date.parse(r.ts) > commandAt && r.fields.flow_m3h === 0 && r.fields.valve_open === false
            ? r
            : null;
        },
        'the meter to read no flow behind its closed valve',
        30_000,
      );
      expect(stopped.fields.valve_open).toBe(false);
      // … and the step closes on that evidence (no flow held 30 s), the sensors named as such.
      const closed = await waitFor(
        async () => {
          const inc = (await get<{ incident: IncidentJson }>(`/api/incidents/${incident.id}`)).incident;
          return inc.steps.close_valve!.status === 'done' ? inc : null;
        },
        'close_valve closed by the meter reading no flow',
        30_000,
      );
      expect(closed.steps.close_valve!.by).toBe('sensor');
      await wallPage.locator('[data-step=close_valve][class~=done]').waitFor();
      expect(await step.locator('[data-testid=device-command]').count()).toBe(0);
      await wallPage.screenshot({ path: screenshotPath(`incident-valve-done-${wall.name}`), fullPage: true });

      await phonePage.reload();
      await phonePage.locator('[data-step=close_valve] [data-outcome=confirmed]').waitFor();
      expect(await phonePage.textContent('[data-step=close_valve] [data-outcome=confirmed]')).toContain(
        '关阀：设备回读确认 · duty',
      );
      const zh = (
        await phonePage.locator('[data-testid=timeline] tr[data-event=device_command]').allTextContents()
      ).join('\n');
      expect(zh).toContain(`duty 远程下发指令：关阀（${METER}）`);
      expect(zh).toContain(`${METER} 回读确认：已关阀（valve_open = false）`);
      await phonePage.screenshot({ path: screenshotPath(`incident-valve-done-${phone.name}`), fullPage: true });
    } finally {
      await browser.close();
    }

    // The drill's end leaves the estate as it was: tap off, valve open again.
    expect((await post('/api/drills/stop', {})).status).toBe(200);
    const meter = demo.estate.observe(METER);
    expect('fields' in meter && meter.fields.valve_open).toBe(true);
    expect(demo.estate.faults(METER)).toEqual([]);
  }, 240_000);
});
