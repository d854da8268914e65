import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEMO_LOGINS, type RunningDemo } from '../app/demo.js';
import { launchChromium, LOOKS, screenshotPath } from './support/browser.js';
import { startTestDemo } from './support/demo.js';
import { waitFor } from './support/site.js';

// Issue 15, end to end: the basement flood drill runs in tower 1 of the demo estate while the
// real zigbee2mqtt bridge (its broker login, through mosquitto_pub) reports a real leak in
// tower 2's pump room. The real alarm is not the drill's: its incident opens and the duty
// manager's webhook hears of it at once; the drill's own alarms and incidents reach no
// webhook. On the alarm board the real alarm sorts above the drill's; when the drill stops,
// the DRILL banner goes and the drill's incidents close as "drill ended".

const execFileP = promisify(execFile);
const MOSQUITTO_PUB = ['/usr/bin/mosquitto_pub', '/usr/local/bin/mosquitto_pub'].find((p) => existsSync(p));
const START = Date.parse('2026-12-01T10:00:00+08:00');
const SPEED = 10;
const auth = { authorization: `Bearer ${DEMO_LOGINS.apiToken}` };

type Body = {
  kind: string;
  incident: string;
  playbook: string;
  device: string | null;
  drill: string | null;
  to: string[] | string;
  text: string;
};
type AlarmJson = { id: string; kind: string; deviceId: string; status: string; drill?: string };
type IncidentJson = {
  id: string;
  playbook: string;
  deviceId?: string;
  building?: string;
  drill?: string;
  status: string;
  closedReason?: string;
  timeline: { type: string; outcome?: string }[];
};

let demo: RunningDemo;
let hook: Server;
const received: Body[] = [];

beforeAll(async () => {
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push(JSON.parse(body) as Body);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const hookUrl = `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook`;
  // The demo, with the duty manager's webhook.
  demo = await startTestDemo({
    influxUrl: inject('influxUrl'),
    speed: SPEED,
    start: START,
    extra: `\nnotifications:\n  channels:\n    - { name: duty-manager-hook, type: webhook, url: "${hookUrl}", roles: [duty_manager, engineering_manager, head_office] }\n  attempts: 1\n`,
  });
}, 90_000);

afterAll(async () => {
  await demo?.stop();
  await new Promise((r) => hook?.close(r));
});

const get = async <T>(path: string): Promise<T> =>
  (await (await fetch(`${demo.gateway.httpUrl}${path}`, { headers: auth })).json()) as T;

describe('a real leak during the flood drill (issue 15, I1)', () => {
  it('is real: not drill-tagged, its incident alerted to the webhook, while the drill reaches no webhook; the drill ends clean', async () => {
    if (!MOSQUITTO_PUB)
      throw new Error(
        'mosquitto_pub is not installed: run `npm run setup` (it installs the Debian package mosquitto-clients)',
      );
    const login = await fetch(`${demo.gateway.httpUrl}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'duty', password: 'dutyroom-duty' }),
    });
    const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
    const post = (path: string, body: unknown) =>
      fetch(`${demo.gateway.httpUrl}${path}`, {
        method: 'POST',
        headers: { cookie, origin: demo.gateway.httpUrl, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    const started = await post('/api/drills', { scenario: 'flood-basement' });
    expect(started.status).toBe(201);
    const drill = (await started.json()) as { id: string };
    // The drill's first alarm (its sump pump jams one simulated minute in).
    await waitFor(
      async () =>
        (await get<{ alarms: AlarmJson[] }>('/api/alarms?drill=true')).alarms.some(
          (a) => a.kind === 'pump_failure' && a.deviceId === 't1-sump-pump',
        ) || null,
      'the drill jams the sump pump',
      60_000,
    );

    // The real bridge reports a real leak in tower 2; it keeps saying so (the simulated sensor publishes "dry" on its own interval).
    const { port } = new URL(demo.gateway.brokerUrl);
    const publish = () =>
      execFileP(MOSQUITTO_PUB!, [
        '-h',
        '127.0.0.1',
        '-p',
        port,
        '-u',
        'zigbee2mqtt',
        '-P',
        DEMO_LOGINS.accounts.zigbee2mqtt!,
        '-q',
        '1',
        '-t',
        'zigbee2mqtt/t2-leak-pump-room',
        '-m',
        JSON.stringify({ water_leak: true, battery: 87, linkquality: 120 }),
      ]);
    const real = await waitFor(
      async () => {
        await publish();
        return (
          (await get<{ alarms: AlarmJson[] }>('/api/alarms')).alarms.find(
            (a) => a.kind === 'water_leak' && a.deviceId === 't2-leak-pump-room' && a.status === 'firing',
          ) ?? null
        );
      },
      'the real leak in tower 2 firing',
      30_000,
    );
    expect(real.drill).toBeUndefined();

    // Told at once, as real; the drill's incident opened meanwhile is told to nobody.
    const told = await waitFor(
      async () => received.find((b) => b.kind === 'incident_opened' && b.device === 't2-leak-pump-room') ?? null,
      'the webhook hears of the real leak',
      30_000,
    );
    expect(told).toMatchObject({ playbook: 'water_leak', drill: null, to: ['duty_manager', 'engineering_manager'] });
    expect(told.text).toContain('第一步 First step');
    const incidents = await waitFor(
      async () => {
        const list = (await get<{ incidents: IncidentJson[] }>('/api/incidents')).incidents;
        const drillOnes = list.filter((i) => i.drill === drill.id);
        return drillOnes.some((i) => i.timeline.some((e) => e.type === 'notification')) ? list : null;
      },
      "the drill's incidents and their (unsent) notices",
      30_000,
    );
    const realIncident = incidents.find((i) => i.playbook === 'water_leak' && i.building === 't2')!;
    expect(realIncident.drill).toBeUndefined();
    for (const i of incidents.filter((x) => x.drill === drill.id))
      for (const e of i.timeline.filter((x) => x.type === 'notification'))
        expect(e.outcome, i.id).toBe('drill_not_sent');
    expect(received.filter((b) => b.drill !== null)).toEqual([]);
    expect(received.every((b) => b.device === null || !b.device.startsWith('t1-'))).toBe(true);

    // The board: the DRILL banner while it runs, the real alarm above every drill alarm.
    const browser = await launchChromium();
    try {
      const p = await (
        await browser.newContext({ locale: 'en-US', extraHTTPHeaders: auth, viewport: { width: 1920, height: 1080 } })
      ).newPage();
      await p.goto(demo.gateway.httpUrl);
      await p.waitForSelector('[data-testid=drill-banner]');
      await p.waitForSelector(`[data-testid=alarm-board] tr[data-alarm="${real.id}"]`);
      const rows = await p
        .locator('[data-testid=alarm-board] tr[data-alarm]')
        .evaluateAll((trs) =>
          trs.map((tr) => ({ id: tr.getAttribute('data-alarm'), drill: tr.classList.contains('drill') })),
        );
      const firstDrill = rows.findIndex((r) => r.drill);
      expect(rows.findIndex((r) => r.id === real.id)).toBeLessThan(firstDrill === -1 ? Infinity : firstDrill);
      await p.screenshot({ path: screenshotPath('real-leak-during-drill'), fullPage: true });

      expect((await post('/api/drills/stop', {})).status).toBe(200);
      await p.waitForSelector('[data-testid=drill-banner]', { state: 'detached', timeout: 15_000 });
      await p.screenshot({ path: screenshotPath('after-drill-stopped'), fullPage: true });
    } finally {
      await browser.close();
    }
    // Its incidents close as "drill ended"; the real one stays open.
    const after = await waitFor(
      async () => {
        const list = (await get<{ incidents: IncidentJson[] }>('/api/incidents')).incidents;
        return list.filter((i) => i.drill === drill.id).every((i) => i.status === 'closed') ? list : null;
      },
      "the drill's incidents closed",
      15_000,
    );
    expect(after.filter((i) => i.drill === drill.id).map((i) => i.closedReason)).toEqual(
      after.filter((i) => i.drill === drill.id).map(() => 'drill_ended'),
    );
    expect(after.find((i) => i.id === realIncident.id)!.status).toBe('open');

    // The two incidents as the duty room reads them: on the wall screen in English, on an engineer's phone in Chinese.
    const drillIncident = after.find((i) => i.drill === drill.id)!;
    const look = await launchChromium();
    try {
      for (const { locale, viewport, name } of LOOKS) {
        const p = await (await look.newContext({ locale, viewport, extraHTTPHeaders: auth })).newPage();
        await p.goto(`${demo.gateway.httpUrl}/#/incidents/${realIncident.id}`);
        await p.waitForSelector('[data-step=locate]');
        await p.screenshot({ path: screenshotPath(`real-leak-incident-${name}`), fullPage: true });
        await p.goto(`${demo.gateway.httpUrl}/#/incidents/${drillIncident.id}`);
        await p.waitForSelector(`.drill-banner >> text=${locale === 'en-US' ? 'The drill ended' : '演练已结束'}`);
        await p.screenshot({ path: screenshotPath(`drill-incident-ended-${name}`), fullPage: true });
      }
    } finally {
      await look.close();
    }
  }, 180_000);
});
