import { describe, expect, it } from 'vitest';
import { SystemAlarms, systemConditions, type SystemSnapshot } from './system.js';

const T0 = Date.parse('2026-12-01T03:00:00Z');
const s = (n: number) => T0 + n * 1000;
const MB = 1024 * 1024;

describe('the monitor watching itself: what a snapshot of the gateway says is wrong', () => {
  it('names each failing part with its evidence in both languages, and nothing when all is well', () => {
    expect(
      systemConditions(
        {
          store: {},
          spool: { bytes: MB, maxBytes: 100 * MB },
          broker: { restarts: 0 },
          modbusLinesDown: [],
          disk: { path: '/var', freeBytes: 5000 * MB, floorBytes: 512 * MB },
        },
        s(0),
      ),
    ).toEqual([]);
    const bad: SystemSnapshot = {
      store: { downSince: s(-40) },
      spool: { bytes: 95 * MB, maxBytes: 100 * MB, refusing: { reason: 'spool_full' }, oldestAgeS: 1800 },
      broker: { down: 'broker thread stopped (exited with code 1); restarting', restarts: 2, lastRestartAt: s(-60) },
      modbusLinesDown: [{ line: 'tcp://10.0.0.5:502', devices: 7 }],
      disk: { path: '/var/dutyroom', freeBytes: 100 * MB, floorBytes: 512 * MB },
      clockJump: { ms: -3_600_000, at: s(-5) },
    };
    const c = systemConditions(bad, s(0));
    expect(c.map((x) => `${x.kind}@${x.subject}`)).toEqual([
      'storage_unreachable@gateway',
      'spool_refusing@gateway',
      'spool_nearly_full@gateway',
      'broker_down@gateway',
      'broker_restarted@gateway',
      'modbus_line_down@modbus:tcp://10.0.0.5:502',
      'disk_low@gateway',
      'clock_jump@gateway',
    ]);
    expect(c[0]!.evidence.text.en).toBe(
      'database writes failing for 40 s (since 2026-12-01T02:59:20.000Z); readings are kept in the spool',
    );
    expect(c[2]!.evidence.text.en).toBe('spool 95 % full (95.0 MiB / 100.0 MiB); oldest reading waiting 30 min');
    expect(c[5]!.evidence.text.zh).toContain('Modbus 线路 tcp://10.0.0.5:502 上 7 台设备均无应答');
    expect(c[7]!.evidence.text.en).toContain('system clock jumped -3600 s');
    // Half full is its own alarm, below the nearly-full one.
    expect(systemConditions({ spool: { bytes: 60 * MB, maxBytes: 100 * MB } }, s(0)).map((x) => x.kind)).toEqual([
      'spool_half_full',
    ]);
    // A restart and a clock jump are facts to look at for ten minutes, then gone.
    expect(
      systemConditions({ broker: { restarts: 1, lastRestartAt: s(-601) }, clockJump: { ms: 9000, at: s(-601) } }, s(0)),
    ).toEqual([]);
  });
});

describe('system alarms, with the lifecycle of every alarm', () => {
  it('the database down 30 s fires; back, it clears; critical ones wait for an acknowledgement of their episode', () => {
    const a = new SystemAlarms();
    const down: SystemSnapshot = { store: { downSince: s(0) } };
    expect(a.evaluate(down, s(1)).map((c) => c.event.type)).toEqual(['pending']);
    expect(a.evaluate(down, s(30))).toEqual([]);
    expect(a.evaluate(down, s(31)).map((c) => c.event.type)).toEqual(['firing']);
    expect(a.active().map((x) => [x.kind, x.severity, x.status])).toEqual([['storage_unreachable', 'major', 'firing']]);
    a.evaluate({ store: {} }, s(40));
    expect(a.evaluate({ store: {} }, s(51)).map((c) => c.event.type)).toEqual(['cleared']);

    const full: SystemSnapshot = { spool: { bytes: 99, maxBytes: 100, refusing: { reason: 'spool_full' } } };
    const fired = a.evaluate(full, s(60));
    expect(
      fired
        .filter((c) => c.event.type === 'firing')
        .map((c) => c.alarm.kind)
        .sort(),
    ).toEqual(['spool_nearly_full', 'spool_refusing']);
    const refusing = a.active().find((x) => x.kind === 'spool_refusing')!;
    a.evaluate({ spool: { bytes: 1, maxBytes: 100 } }, s(70));
    a.evaluate({ spool: { bytes: 1, maxBytes: 100 } }, s(100));
    expect(a.findById(refusing.id)!.status).toBe('cleared'); // critical: waits for someone
    expect(a.acknowledge(refusing.id, 'duty', 'disk freed', s(101)).map((c) => c.event.type)).toEqual([
      'acknowledged',
      'closed',
    ]);
  });

  it('comes back after a restart from the journal', () => {
    const a = new SystemAlarms();
    a.evaluate({ broker: { down: 'x', restarts: 0 } }, s(0));
    a.evaluate({ broker: { down: 'x', restarts: 0 } }, s(6));
    const again = new SystemAlarms();
    again.restore(a.active());
    expect(again.active().map((x) => x.kind)).toEqual(['broker_down']);
    expect(again.evaluate({ broker: { down: 'x', restarts: 0 } }, s(7))).toEqual([]);
  });
});
