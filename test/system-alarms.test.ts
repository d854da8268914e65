import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { isSystemKind } from '../rules/alarms/system.js';
import { launchChromium, LOOKS, screenshotPath } from './support/browser.js';
import { startGateway, type RunningGateway } from '../gateway/gateway.js';
import { startInfluxd, type InfluxdProcess } from '../gateway/store/influxd.js';
import { BRIDGE_PASSWORD, DEVICE_PASSWORD, testSite, waitFor } from './support/site.js';
import { systemClock } from '../gateway/ports/clock.js';

// Issue 16: the monitor watches itself. A gateway whose database stops, whose small spool
// fills, whose data disk is below its floor, whose one Modbus converter is off and whose
// broker thread dies shows each as an alarm on the duty room's board, with its evidence in
// both languages, and the critical ones open the gateway_fault playbook. When the parts
// come back, the alarms clear. The gateway's clock is real time that the test moves ahead
// past each condition's time (30 s for the database, 60 s for a Modbus line).

let influx: InfluxdProcess | undefined;
let gw: RunningGateway | undefined;
afterAll(async () => {
  await gw?.stop();
  await influx?.stop();
});

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((ok) => s.close(() => ok()));
  return port;
}

describe('the monitor watches itself (issue 16)', () => {
  it('database down, spool filling then refusing, disk below its floor, a Modbus line silent, the broker restarted: each an alarm with evidence, the critical ones an incident; cleared when the parts return', async () => {
    // Real time plus what the test skips ahead (the writer's flush timer runs on real timers and reads this clock).
    let skipped = 0;
    const clock = { now: () => systemClock.now() + skipped };
    const dataDir = mkdtempSync(join(tmpdir(), 'system-alarms-influxd-'));
    influx = await startInfluxd({ dataDir });
    const port = Number(new URL(influx.url).port);
    const modbusPort = await closedPort();
    const site = testSite({
      influxUrl: influx.url,
      database: 'system_alarms',
      spoolMaxBytes: 64 * 1024,
      fsyncIntervalMs: 0,
      minFreeMb: 1 << 30, // a petabyte: no disk here has that free
      extra: `  - { id: em-x, kind: electricity_meter, protocol: modbus, profile: eastron-sdm630, poll_interval_s: 1, place: { building: b1, room: pump-room }, connection: { host: 127.0.0.1, port: ${modbusPort}, unit_id: 1 } }\n`,
    });
    gw = await startGateway({ ...site, clock, logger: pino({ level: 'silent' }) });
    await gw.adapter.waitReady();
    const g = gw;
    // Firing and still holding (one whose condition is gone waits its clear time as firing).
    const firing = () =>
      new Map(
        g.alarms
          .list()
          .filter((a) => a.status === 'firing' && a.clearingSince === undefined)
          .map((a) => [`${a.kind}|${a.deviceId}`, a]),
      );

    await influx.stop(); // the database goes down
    const device = await mqtt.connectAsync(g.brokerUrl, {
      username: 'wm-101',
      password: DEVICE_PASSWORD,
      reconnectPeriod: 100,
      connectTimeout: 5000,
    });
    const sent: Promise<unknown>[] = [];
    for (let i = 0; i < 2000; i++) {
      sent.push(
        device.publishAsync(
          'dutyroom/testsite/wm-101/reading',
          JSON.stringify({ ts: clock.now() - 2000_000 + i * 1000, total_m3: 1000 + i / 1000, flow_m3h: 0.06 }),
          { qos: 1 },
        ),
      );
    }
    await waitFor(() => g.broker!.stats().notKept > 0 || null, 'the spool full and refusing', 30_000);
    await waitFor(() => g.modbus.linesDown().length > 0 || null, 'the Modbus line found silent', 10_000);

    // The instant ones fire as soon as a snapshot shows them (the disk is read in the background); the others wait their time.
    const instant = ['disk_low|gateway', 'spool_nearly_full|gateway', 'spool_refusing|gateway'];
    await waitFor(() => {
      g.alarms.checkSystem();
      return instant.every((k) => firing().has(k)) || null;
    }, 'the instant system alarms');
    // Of the system alarms, only the instant ones yet (em-x's own device_offline may come meanwhile: its converter is off).
    expect([...firing().keys()].filter((k) => isSystemKind(k.split('|')[0]!)).sort()).toEqual(instant);
    skipped += 61_000;
    g.alarms.checkSystem();
    const all = firing();
    const line = `modbus:tcp://127.0.0.1:${modbusPort}`;
    // The system alarms only: em-x's and lift-a's own device_offline come whenever a tick falls after their limit.
    expect([...all.keys()].filter((k) => isSystemKind(k.split('|')[0]!)).sort()).toEqual([
      'disk_low|gateway',
      `modbus_line_down|${line}`,
      'spool_nearly_full|gateway',
      'spool_refusing|gateway',
      'storage_unreachable|gateway',
    ]);
    expect(all.get('storage_unreachable|gateway')).toMatchObject({
      severity: 'major',
      evidence: {
        text: {
          en: expect.stringMatching(/database writes failing for \d+ s/),
          zh: expect.stringContaining('数据库写入失败'),
        },
      },
    });
    expect(all.get('spool_refusing|gateway')).toMatchObject({
      severity: 'critical',
      evidence: {
        text: {
          en: expect.stringMatching(/^the spool is full \(\d+ KiB \/ 64 KiB\)/),
          zh: expect.stringContaining('新读数被拒收'),
        },
      },
    });
    expect(all.get('spool_nearly_full|gateway')!.evidence!.text.en).toMatch(
      /^spool (9\d|100) % full \(\d+ KiB \/ 64 KiB\)/,
    );
    expect(all.get('disk_low|gateway')).toMatchObject({
      severity: 'critical',
      evidence: { text: { en: expect.stringContaining('below 1048576.0 GiB') } },
    });
    expect(all.get(`modbus_line_down|${line}`)).toMatchObject({
      severity: 'major',
      evidence: { text: { en: expect.stringContaining('1 device(s)') } },
    });

    // The critical ones open the gateway's own playbook, one incident for the gateway, and the roles are told.
    const kinds = () =>
      g.incidents
        .list({ status: 'open' })
        .find((i) => i.playbook === 'gateway_fault')
        ?.alarms.map((a) => a.kind)
        .sort();
    await waitFor(() => kinds()?.length === 3 || null, 'the gateway_fault incident with its three alarms', 5000).catch(
      () => undefined,
    );
    expect(kinds()).toEqual(['disk_low', 'spool_nearly_full', 'spool_refusing']);
    expect(g.incidents.list().filter((i) => i.playbook === 'gateway_fault')).toHaveLength(1);

    // On the API, as on the board.
    const viewer = { authorization: `Bearer ${BRIDGE_PASSWORD}` };
    const res = await fetch(`${g.httpUrl}/api/alarms`, { headers: viewer });
    const listed = ((await res.json()) as { alarms: { kind: string }[] }).alarms.map((a) => a.kind);
    expect(listed).toEqual(
      expect.arrayContaining(['storage_unreachable', 'spool_refusing', 'disk_low', 'modbus_line_down']),
    );

    // The duty room sees it: the health panel and the board, on the wall screen in English and on a phone in Chinese.
    const browser = await launchChromium();
    try {
      for (const { locale, viewport, name, lang } of LOOKS) {
        const p = await (await browser.newContext({ locale, viewport, extraHTTPHeaders: viewer })).newPage();
        await p.goto(`${g.httpUrl}/#/health`);
        await p.waitForSelector('[data-part=spool]');
        expect(await p.getAttribute('[data-testid=health-overall]', 'class')).toContain('down');
        expect(await p.textContent('[data-testid=health-overall]')).toBe(lang === 'en' ? 'down' : '故障');
        expect(await p.getAttribute('[data-part=store]', 'class')).toContain('down');
        expect(await p.getAttribute('[data-part=spool]', 'class')).toContain('degraded');
        expect(await p.textContent('[data-part=spool]')).toMatch(/KiB \/ 64 KiB \((9\d|100) %\)/);
        expect(await p.textContent('[data-part=store]')).toContain(lang === 'en' ? 'Failing for' : '写入失败已持续');
        expect(await p.getAttribute(`[data-line="tcp://127.0.0.1:${modbusPort}"] .pill`, 'class')).toContain('down');
        expect(await p.getAttribute('[data-testid=health-tab] .dot', 'class')).toContain('down');
        await p.screenshot({ path: screenshotPath(`health-failing-${name}`), fullPage: true });
        await p.goto(`${g.httpUrl}/#/alarms`);
        const row = p.locator('tr[data-alarm^="spool_refusing:"]');
        await row.waitFor();
        expect(await row.textContent()).toContain(lang === 'en' ? 'the gateway' : '监控网关');
        expect(await p.textContent(`tr[data-alarm^="modbus_line_down:"]`)).toContain(`tcp://127.0.0.1:${modbusPort}`);
        await p.screenshot({ path: screenshotPath(`system-alarms-${name}`), fullPage: true });
      }
    } finally {
      await browser.close();
    }

    // The broker thread dies and is restarted: a fact to look at, minor.
    await g.broker!.crash();
    await waitFor(
      () => (g.broker!.restarts >= 1 && g.broker!.health().status === 'ok') || null,
      'the broker thread restarted',
      30_000,
    );
    g.alarms.checkSystem();
    expect(firing().get('broker_restarted|gateway')).toMatchObject({
      severity: 'minor',
      evidence: { text: { en: expect.stringContaining('1 restart(s) so far') } },
    });

    // The database returns: the spool drains, the device's readings are taken again.
    influx = await startInfluxd({ dataDir, port });
    await Promise.all(sent);
    await device.endAsync();
    await waitFor(
      () => {
        const h = Object.fromEntries(g.store.healthSources.map((x) => [x.component, x.health()]));
        if (h.spool!.depth === 0 && g.pipeline.refusing === undefined) return true;
        throw new Error(`refusing: ${g.pipeline.refusing}; ${JSON.stringify(h)}`);
      },
      'the spool drained',
      60_000,
    );
    g.alarms.checkSystem(); // gone: each starts its clear time
    skipped += 61_000;
    g.alarms.checkSystem();
    const left = [...firing().keys()].filter((k) => isSystemKind(k.split('|')[0]!)).sort(); // the devices went silent meanwhile, too
    // The disk is still small, the converter still off, the restart stays on the board for 10 minutes.
    expect(left).toEqual(['broker_restarted|gateway', 'disk_low|gateway', `modbus_line_down|${line}`]);
    const cleared = g.alarms
      .list()
      .filter((a) => a.status === 'cleared')
      .map((a) => a.kind)
      .sort();
    expect(cleared).toEqual(expect.arrayContaining(['spool_nearly_full', 'spool_refusing', 'storage_unreachable']));

    // The panel follows; and when the gateway itself stops answering, nothing on it stays green.
    const look = await launchChromium();
    try {
      const p = await (
        await look.newContext({ locale: 'en-US', viewport: { width: 1920, height: 1080 }, extraHTTPHeaders: viewer })
      ).newPage();
      await p.goto(`${g.httpUrl}/#/health`);
      await p.waitForSelector('[data-part=store].ok');
      expect(await p.getAttribute('[data-part=spool]', 'class')).toContain('ok');
      await p.screenshot({ path: screenshotPath('health-recovered-wall-en'), fullPage: true });
      await g.stop();
      gw = undefined;
      await p.waitForSelector('[data-testid=health-overall].unknown', { timeout: 15_000 });
      expect(await p.locator('[data-part].ok').count()).toBe(0);
      expect(await p.textContent('[data-testid=health]')).toContain('The gateway does not answer');
      await p.screenshot({ path: screenshotPath('health-unreachable-wall-en'), fullPage: true });
    } finally {
      await look.close();
    }
  }, 180_000);
});
