import { monitorEventLoopDelay } from 'node:perf_hooks';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeRegisters, ModbusAdapter, type ModbusAdapterOptions } from '../gateway/adapters/modbus/adapter.js';
import { ModbusConfigError } from '../gateway/adapters/modbus/devices.js';
import { planReads } from '../gateway/adapters/modbus/plan.js';
import { realTimers, systemClock, type Timers } from '../gateway/ports/clock.js';
import { Metrics } from '../gateway/metrics.js';
import { ManualClock } from '../gateway/ports/manual-clock.js';
import { loadRegisterProfiles, parseRegisterProfile, type RegisterProfile } from '../gateway/profiles/profile.js';
import type { FieldValue, Reading } from '../rules/model/reading.js';
import { startModbusServer, type ModbusServer, type SimulatedDevice } from '../simulators/modbus/server.js';
import { cleanupEach, modbusDevice, quietLogger, recordingLogger, waitFor } from './modbus-helpers.js';

// The Modbus adapter against the simulator over TCP on loopback, real timers, real sockets:
// an Eastron SDM630 and a Grundfos pump behind one converter (two unit ids on one
// endpoint), a TUF-2000M on another endpoint.

let profiles: Map<string, RegisterProfile>;
beforeAll(() => {
  profiles = loadRegisterProfiles();
});

const onCleanup = cleanupEach();

const METER: Record<string, FieldValue> = {
  voltage_l1_v: 230.1,
  voltage_l2_v: 229.8,
  voltage_l3_v: 231.4,
  current_l1_a: 5.2,
  current_l2_a: 4.9,
  current_l3_a: 6.1,
  power_kw: 3.456,
  frequency_hz: 50.01,
  energy_import_kwh: 12345.6,
  energy_export_kwh: 0.5,
};
const PUMP: Record<string, FieldValue> = {
  run_command: false,
  running: true,
  fault: false,
  warning: true,
  alarm_code: 57,
  pressure_kpa: 345.6,
  flow_m3h: 12.3,
  current_a: 4.5,
};
const FLOW: Record<string, FieldValue> = { flow_m3h: 12.5, total_m3: 1234.25, error_code: 0 };

async function server(
  devices: { unitId: number; profile: string; values: Record<string, FieldValue> }[],
  port = 0,
): Promise<ModbusServer> {
  const s = await startModbusServer({
    port,
    devices: devices.map((d): SimulatedDevice => ({ ...d, profile: profiles.get(d.profile)! })),
  });
  onCleanup(() => s.close());
  return s;
}

interface Run {
  adapter: ModbusAdapter;
  metrics: Metrics;
  readings: (Reading & { receivedAt: number })[];
  of: (id: string) => (Reading & { receivedAt: number })[];
}

function run(devices: ModbusAdapterOptions['devices'], extra: Partial<ModbusAdapterOptions> = {}): Run {
  const metrics = new Metrics();
  const adapter = new ModbusAdapter({ devices, profiles, clock: systemClock, metrics, logger: quietLogger, ...extra });
  const readings: Run['readings'] = [];
  adapter.start((r) => readings.push({ ...r, receivedAt: systemClock.now() }));
  onCleanup(() => adapter.stop());
  return { adapter, metrics, readings, of: (id) => readings.filter((r) => r.deviceId === id) };
}

const meter = (port: number, intervalS = 0.2, timeoutMs = 500) =>
  modbusDevice({
    id: 'em-b1',
    kind: 'electricity_meter',
    profile: 'eastron-sdm630',
    host: '127.0.0.1',
    port,
    unitId: 1,
    intervalS,
    timeoutMs,
  });
const pump = (port: number, intervalS = 0.2, timeoutMs = 500) =>
  modbusDevice({
    id: 'pump-b1',
    kind: 'pump',
    profile: 'grundfos-cim',
    host: '127.0.0.1',
    port,
    unitId: 2,
    intervalS,
    timeoutMs,
  });
const flowMeter = (port: number, intervalS = 0.2) =>
  modbusDevice({
    id: 'wm-b1',
    kind: 'water_meter',
    profile: 'tuf-2000m',
    host: '127.0.0.1',
    port,
    unitId: 1,
    intervalS,
    timeoutMs: 500,
  });

async function counter(m: Metrics, name: 'modbusRequests' | 'modbusFieldErrors', label: string): Promise<number> {
  const data = await m[name].get();
  return data.values.filter((v) => Object.values(v.labels).includes(label)).reduce((a, v) => a + v.value, 0);
}

describe('ModbusAdapter over TCP', () => {
  it('reads three devices on two endpoints into Readings equal to what the devices hold', async () => {
    const converter = await server([
      { unitId: 1, profile: 'eastron-sdm630', values: METER },
      { unitId: 2, profile: 'grundfos-cim', values: PUMP },
    ]);
    const flow = await server([{ unitId: 1, profile: 'tuf-2000m', values: FLOW }]);
    const started = systemClock.now();
    const r = run([meter(converter.port), pump(converter.port), flowMeter(flow.port)]);
    await waitFor(
      () => r.of('em-b1').length && r.of('pump-b1').length && r.of('wm-b1').length,
      3000,
      'a reading from each device',
    );

    const first = (id: string) => r.of(id)[0]!;
    expect(first('em-b1')).toMatchObject({
      deviceId: 'em-b1',
      kind: 'electricity_meter',
      quality: 'good',
      fields: METER,
    });
    expect(first('pump-b1')).toMatchObject({ deviceId: 'pump-b1', kind: 'pump', quality: 'good', fields: PUMP });
    expect(first('wm-b1')).toMatchObject({ deviceId: 'wm-b1', kind: 'water_meter', quality: 'good', fields: FLOW });
    // Exactly the fields, nothing extra.
    expect(Object.keys(first('em-b1').fields).sort()).toEqual(Object.keys(METER).sort());
    for (const id of ['em-b1', 'pump-b1', 'wm-b1']) {
      // Stamped by the clock when the poll started, before the answer came.
      expect(first(id).ts).toBeGreaterThanOrEqual(started);
      expect(first(id).ts).toBeLessThanOrEqual(first(id).receivedAt);
    }

    // Live values: what the device holds now comes out in the next polls.
    converter.set(2, { running: false, alarm_code: 0, flow_m3h: 0 });
    flow.set(1, { total_m3: 1234.75 });
    await waitFor(() => r.of('pump-b1').some((x) => x.fields.running === false), 2000, 'the pump to report it stopped');
    await waitFor(() => r.of('wm-b1').some((x) => x.fields.total_m3 === 1234.75), 2000, 'the new total');
    expect(r.of('pump-b1').at(-1)!.fields).toEqual({ ...PUMP, running: false, alarm_code: 0, flow_m3h: 0 });

    expect(r.adapter.health()).toMatchObject({ status: 'ok', devices: { configured: 3, online: 3, offline: 0 } });
    const stats = r.adapter.deviceStats().get('em-b1')!;
    expect(stats).toMatchObject({
      online: true,
      errors: 0,
      timeouts: 0,
      consecutiveFailures: 0,
      backoffUntil: null,
      endpoint: `tcp://127.0.0.1:${converter.port}`,
    });
    expect(stats.lastOkAt).toBeGreaterThanOrEqual(started);
    expect(await r.metrics.readingsReceived.get()).toMatchObject({
      values: [expect.objectContaining({ labels: { protocol: 'modbus' } })],
    });
  });

  it("spreads the polls of a line's devices over their interval, each line on its own, so that none waits behind the others", async () => {
    const converter = await server(
      [1, 2, 3, 4].map((unitId) => ({ unitId, profile: 'eastron-sdm630', values: METER })),
    );
    const other = await server([1, 2].map((unitId) => ({ unitId, profile: 'eastron-sdm630', values: METER })));
    const at = (id: string, port: number, unitId: number, intervalS: number) =>
      modbusDevice({
        id,
        kind: 'electricity_meter',
        profile: 'eastron-sdm630',
        host: '127.0.0.1',
        port,
        unitId,
        intervalS,
      });
    const clock = new ManualClock();
    const r = run(
      [
        ...[1, 2, 3, 4].map((u) => at(`em-a${u}`, converter.port, u, 1)),
        at('em-b1', other.port, 1, 0.8),
        at('em-b2', other.port, 2, 0.8),
      ],
      { clock, timers: clock },
    );
    const polled = () =>
      [...r.adapter.deviceStats()].filter(([, s]) => s.polls > 0).map(([id, s]) => `${id}×${s.polls}`);
    clock.advance(0);
    expect(polled()).toEqual(['em-a1×1', 'em-b1×1']);
    clock.advance(249);
    expect(polled()).toEqual(['em-a1×1', 'em-b1×1']);
    clock.advance(1);
    expect(polled()).toEqual(['em-a1×1', 'em-a2×1', 'em-b1×1']);
    clock.advance(150);
    expect(polled()).toEqual(['em-a1×1', 'em-a2×1', 'em-b1×1', 'em-b2×1']);
    clock.advance(100);
    expect(polled()).toEqual(['em-a1×1', 'em-a2×1', 'em-a3×1', 'em-b1×1', 'em-b2×1']);
    clock.advance(250);
    expect(polled()).toEqual(['em-a1×1', 'em-a2×1', 'em-a3×1', 'em-a4×1', 'em-b1×1', 'em-b2×1']);
  });

  it('coalesces: one SDM630 poll is its 3 planned reads, not 10 (one per field)', async () => {
    const converter = await server([
      { unitId: 1, profile: 'eastron-sdm630', values: METER },
      { unitId: 2, profile: 'grundfos-cim', values: PUMP },
    ]);
    const flow = await server([{ unitId: 1, profile: 'tuf-2000m', values: FLOW }]);
    const r = run([meter(converter.port, 0.1), pump(converter.port, 0.1), flowMeter(flow.port, 0.1)]);
    await waitFor(() => r.of('em-b1').length >= 5, 3000, '5 meter readings');
    await r.adapter.stop();

    // stop() may cut one poll short: its requests fail, or are answered and not counted, and
    // it makes no reading. Every other poll is its whole plan and one reading.
    let counted = 0;
    const expectRequests = (s: ModbusServer, unit: number, id: string, profile: string) => {
      const plan = planReads(profiles.get(profile)!).map((q) => [q.function, q.start, q.count]);
      const polls = r.adapter.deviceStats().get(id)!.polls;
      const answered = r.of(id).length;
      expect(polls - answered, 'polls without a reading').toBeLessThanOrEqual(1);
      const seen = s.requests(unit).map((q) => [q.function, q.start, q.count]);
      const whole = answered * plan.length;
      expect(seen.slice(0, whole)).toEqual(Array.from({ length: answered }, () => plan).flat());
      expect(seen.slice(whole), 'requests of the poll cut short').toEqual(plan.slice(0, seen.length - whole));
      counted += whole;
      return plan.length;
    };
    expect(expectRequests(converter, 1, 'em-b1', 'eastron-sdm630')).toBe(3);
    expect(expectRequests(converter, 2, 'pump-b1', 'grundfos-cim')).toBe(3);
    expect(expectRequests(flow, 1, 'wm-b1', 'tuf-2000m')).toBe(2);
    expect(await counter(r.metrics, 'modbusRequests', 'ok')).toBe(counted);
  });

  it('a dead slave backs off (1, 2, 4 intervals, then capped) without costing its neighbour a poll, and comes back', async () => {
    const converter = await server([
      { unitId: 1, profile: 'eastron-sdm630', values: METER },
      { unitId: 2, profile: 'grundfos-cim', values: PUMP },
    ]);
    converter.setOffline(2, true);
    const intervalMs = 200;
    const capMs = 800;
    const r = run([meter(converter.port, intervalMs / 1000, 100), pump(converter.port, intervalMs / 1000, 100)], {
      maxBackoffMs: capMs,
    });
    // As below: the backoff cannot be more punctual than the event loop that times it.
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();

    // Let the dead pump reach the cap (attempts at 0, 200, 600, 1400 ms…).
    await waitFor(
      () => (r.adapter.deviceStats().get('pump-b1')!.consecutiveFailures >= 3 ? true : undefined),
      3000,
      'the pump to fail 3 polls',
    );
    const windowStart = systemClock.now();
    const before = r.of('em-b1').length;
    // The measured window: until the dead pump has timed out at the cap twice (attempts at 0,
    // 200, 600, 1400, 2200, 3000 ms), with the meter polled all along beside it.
    await waitFor(
      () => r.adapter.deviceStats().get('pump-b1')!.timeouts >= 6 && r.of('em-b1').length - before >= 8,
      5000,
      'two capped attempts on the pump and eight meter polls beside them',
    );
    const inWindow = r.of('em-b1').length - before;
    const windowMs = systemClock.now() - windowStart;
    // The healthy meter keeps its rate: one reading per interval (±1 at the window's edges).
    expect(inWindow).toBeGreaterThanOrEqual(Math.floor(windowMs / intervalMs) - 1);
    // …and its period, measured at the device (first request of each poll), within 10 % of the interval.
    const polls = converter
      .requests(1)
      .filter((q) => q.start === 0 && q.at >= windowStart && q.at <= windowStart + windowMs)
      .map((q) => q.at);
    const period = (polls.at(-1)! - polls[0]!) / (polls.length - 1);
    expect(Math.abs(period - intervalMs) / intervalMs, `mean period ${period} ms`).toBeLessThanOrEqual(0.1);
    expect(r.adapter.deviceStats().get('em-b1')).toMatchObject({ skipped: 0, errors: 0, timeouts: 0, online: true });
    expect(r.of('pump-b1')).toHaveLength(0); // every request failed: no reading at all

    // The dead pump was asked ever less often, up to the cap (one request per attempt:
    // after a timeout the rest of its poll is not sent).
    const attempts = converter.requests(2).map((q) => q.at);
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    expect(gaps.length).toBeGreaterThanOrEqual(4);
    loop.disable();
    const lagMs = Math.max(0, loop.max / 1e6 - 5);
    const near = (gap: number, want: number) =>
      expect(
        Math.abs(gap - want),
        `gap ${gap} ms, wanted ${want} (gaps: ${gaps.join(', ')}; event loop stalled up to ${lagMs.toFixed(0)} ms)`,
      ).toBeLessThan(80 + lagMs);
    near(gaps[0]!, intervalMs);
    near(gaps[1]!, 2 * intervalMs);
    for (const g of gaps.slice(2)) near(g, capMs);
    const stats = r.adapter.deviceStats().get('pump-b1')!;
    expect(stats).toMatchObject({ online: false, errors: 0, lastOkAt: null });
    expect(stats.timeouts).toBe(attempts.length);
    expect(stats.lastError).toMatch(/no answer from unit 2 within 100 ms/);
    expect(stats.backoffUntil).not.toBeNull();
    expect(stats.backoffUntil! - systemClock.now()).toBeLessThanOrEqual(capMs);
    // One dead device is an alarm for the duty room, not a sick gateway: ok, naming it.
    expect(r.adapter.health()).toMatchObject({
      status: 'ok',
      detail: '1 of 2 Modbus device(s) not answering: pump-b1',
      devices: { online: 1, offline: 1, backedOff: 1 },
      offline: ['pump-b1'],
    });
    expect(await counter(r.metrics, 'modbusRequests', 'timeout')).toBe(attempts.length);

    // Back: the next (capped) attempt answers and the pump returns to its normal rate.
    converter.setOffline(2, false);
    const back = systemClock.now();
    await waitFor(() => r.of('pump-b1').length, capMs + intervalMs + 1000, 'the pump to answer again');
    expect(systemClock.now() - back).toBeLessThan(capMs + intervalMs + 300);
    expect(r.of('pump-b1')[0]!.fields).toEqual(PUMP);
    expect(r.adapter.deviceStats().get('pump-b1')).toMatchObject({
      online: true,
      consecutiveFailures: 0,
      backoffUntil: null,
    });
    const recovered = r.of('pump-b1').length;
    await waitFor(() => r.of('pump-b1').length >= recovered + 4, 4 * intervalMs + 500, 'the pump back on its interval');
  });

  it('a converter switched off and on: the incomer behind it is back within a few intervals, a drainage pump after its longer backoff (issue 16)', async () => {
    const devices = [
      { unitId: 1, profile: 'eastron-sdm630', values: METER },
      { unitId: 2, profile: 'grundfos-cim', values: PUMP },
    ];
    const first = await server(devices);
    const port = first.port;
    const intervalMs = 200;
    const incomer = { ...meter(port, intervalMs / 1000, 100), circuit: 'incomer' as const };
    const drainage = { ...pump(port, intervalMs / 1000, 100), role: 'drainage' as const };
    const r = run([incomer, drainage], { maxBackoffMs: 5000 });
    await waitFor(() => (r.of('em-b1').length && r.of('pump-b1').length ? true : undefined), 3000, 'both polled');
    await first.close(); // switched off
    await waitFor(
      () => (r.adapter.deviceStats().get('pump-b1')!.consecutiveFailures >= 5 ? true : undefined),
      10_000,
      'the pump deep in its backoff',
    );
    // The incomer waits 3 intervals at most; the pump by now up to 16 (3.2 s, capped at 5 s).
    expect(r.adapter.deviceStats().get('em-b1')!.backoffUntil! - systemClock.now()).toBeLessThanOrEqual(3 * intervalMs);
    const on = systemClock.now();
    const seen = { meter: r.of('em-b1').length, pump: r.of('pump-b1').length };
    await server(devices, port); // switched on again, same port
    await waitFor(() => (r.of('em-b1').length > seen.meter ? true : undefined), 3000, 'the incomer read again');
    const incomerBack = systemClock.now() - on;
    await waitFor(() => (r.of('pump-b1').length > seen.pump ? true : undefined), 8000, 'the pump read again');
    const pumpBack = systemClock.now() - on;
    expect(incomerBack).toBeLessThan(3 * intervalMs + 400);
    expect(pumpBack).toBeGreaterThan(incomerBack);
  });

  it('healthy devices keep their poll period within 10 % next to a slave that never answers and a converter that is switched off', async () => {
    const intervalMs = 200;
    // The requirement, as a bound on each measured period (at the device: when its first request arrived).
    const tolerance = 0.1 * intervalMs;
    const a = await server([
      { unitId: 1, profile: 'eastron-sdm630', values: METER },
      { unitId: 2, profile: 'grundfos-cim', values: PUMP },
    ]);
    a.setOffline(2, true); // the pump behind converter A never answers: each try holds A's line for its timeout
    const b = await server([{ unitId: 1, profile: 'tuf-2000m', values: FLOW }]);
    const c = await server([{ unitId: 7, profile: 'eastron-sdm630', values: METER }]);
    const doomed = modbusDevice({
      id: 'em-c',
      kind: 'electricity_meter',
      profile: 'eastron-sdm630',
      host: '127.0.0.1',
      port: c.port,
      unitId: 7,
      intervalS: intervalMs / 1000,
      timeoutMs: 100,
    });
    const r = run(
      [
        meter(a.port, intervalMs / 1000, 100),
        pump(a.port, intervalMs / 1000, 100),
        flowMeter(b.port, intervalMs / 1000),
        doomed,
      ],
      { maxBackoffMs: 2 * intervalMs },
    );
    await waitFor(() => r.of('em-c').length, 3000, 'a reading from converter C');
    await c.close(); // converter C is switched off: its connection drops, reconnects are refused

    await waitFor(
      () =>
        !r.adapter.deviceStats().get('em-c')!.online &&
        r.adapter.deviceStats().get('pump-b1')!.consecutiveFailures >= 2,
      3000,
      'both failures under way',
    );
    const windowStart = systemClock.now();
    // The scheduler cannot be more punctual than the event loop it runs on: a loaded machine
    // (CI runs two test files at once) stalls it now and then. A poll held behind the dead
    // pump's timeout would be late by up to 100 ms, far beyond the loop's own delay.
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const firstRequests = (s: ModbusServer, unit: number, profile: string) => {
      const first = planReads(profiles.get(profile)!)[0]!;
      return s
        .requests(unit)
        .filter((q) => q.function === first.function && q.start === first.start && q.at >= windowStart)
        .map((q) => q.at);
    };
    const polls = () => ({ 'em-b1': firstRequests(a, 1, 'eastron-sdm630'), 'wm-b1': firstRequests(b, 1, 'tuf-2000m') });
    // Eleven polls of each healthy device: ten periods, long enough for the dead pump to be retried in between.
    const measured = await waitFor(
      () => {
        const p = polls();
        return p['em-b1'].length >= 11 && p['wm-b1'].length >= 11 ? p : undefined;
      },
      20 * intervalMs,
      'eleven polls of each healthy device',
    );
    const windowEnd = systemClock.now();
    loop.disable();
    const loopLagMs = Math.max(0, loop.max / 1e6 - 5);

    for (const [id, at] of Object.entries(measured)) {
      const periods = at.slice(1).map((t, i) => t - at[i]!);
      // A lost poll would show as a period of two intervals, a late one as a long period followed by a short one.
      for (const p of periods) {
        expect(
          Math.abs(p - intervalMs),
          `${id}: period ${p} ms (all: ${periods.join(', ')}; event loop stalled up to ${loopLagMs.toFixed(0)} ms)`,
        ).toBeLessThanOrEqual(tolerance + loopLagMs);
      }
      expect(r.adapter.deviceStats().get(id)).toMatchObject({ online: true, skipped: 0, errors: 0, timeouts: 0 });
    }
    // The failures were really there during the window.
    expect(a.requests(2).filter((q) => q.at >= windowStart && q.at <= windowEnd).length).toBeGreaterThanOrEqual(2);
    expect(r.adapter.deviceStats().get('em-c')).toMatchObject({
      online: false,
      lastError: expect.stringMatching(/ECONNREFUSED|closed|lost/),
    });
    expect(r.adapter.health()).toMatchObject({
      status: 'degraded',
      detail: `no device answers on tcp://127.0.0.1:${c.port}; 2 of 4 Modbus device(s) not answering: pump-b1, em-c`,
      devices: { configured: 4, online: 2, offline: 2 },
    });
  });

  it('reconnects when the device server restarts on the same port, and readings resume', async () => {
    const first = await server([{ unitId: 1, profile: 'eastron-sdm630', values: METER }]);
    const port = first.port;
    const r = run([meter(port, 0.1, 200)], { maxBackoffMs: 400 });
    await waitFor(() => r.of('em-b1').length, 3000, 'a first reading');

    await first.close();
    await waitFor(() => !r.adapter.deviceStats().get('em-b1')!.online, 3000, 'the meter to be seen offline');
    expect(r.adapter.health()).toMatchObject({
      status: 'down',
      detail: expect.stringContaining(`tcp://127.0.0.1:${port}`),
    });
    expect(r.adapter.deviceStats().get('em-b1')!.lastError).toMatch(/ECONNREFUSED|closed|lost/);

    const restarted = await server(
      [{ unitId: 1, profile: 'eastron-sdm630', values: { ...METER, voltage_l1_v: 240 } }],
      port,
    );
    expect(restarted.port).toBe(port);
    await waitFor(
      () => r.of('em-b1').some((x) => x.fields.voltage_l1_v === 240),
      3000,
      'readings from the restarted device',
    );
    expect(r.adapter.deviceStats().get('em-b1')).toMatchObject({ online: true, consecutiveFailures: 0 });
    expect(r.adapter.health()).toMatchObject({
      status: 'ok',
      endpoints: [expect.objectContaining({ connected: true, connections: 2 })],
    });
    expect((await r.metrics.modbusConnections.get()).values[0]!.value).toBe(2);
    expect(restarted.connections()).toBe(1);
  });

  it('leaves a field that does not decode out of the reading, counts it, and sends the rest', async () => {
    const lift = {
      floor: 7,
      direction: 'up',
      door: 'closed',
      in_door_zone: true,
      occupied: false,
      alarm_button: false,
      mode: 'normal',
      fault_code: 0,
    };
    const s = await server([
      { unitId: 1, profile: 'eastron-sdm630', values: METER },
      { unitId: 5, profile: 'generic-lift-terminal', values: lift },
    ]);
    s.setRaw(1, 4, 0x46, [0x7fc0, 0x0000]); // frequency: float32 NaN
    s.setRaw(5, 3, 1, [9]); // direction code 9: not in the map
    const liftDevice = modbusDevice({
      id: 'lift-b1-1',
      kind: 'lift',
      profile: 'generic-lift-terminal',
      host: '127.0.0.1',
      port: s.port,
      unitId: 5,
      intervalS: 0.2,
    });
    const r = run([meter(s.port), liftDevice]);
    await waitFor(() => r.of('em-b1').length && r.of('lift-b1-1').length, 3000, 'readings');
    const { frequency_hz: _f, ...meterRest } = METER;
    const { direction: _d, ...liftRest } = lift;
    expect(r.of('em-b1')[0]!.fields).toEqual(meterRest);
    expect(r.of('lift-b1-1')[0]!.fields).toEqual(liftRest);
    // Every request answered, but not every field: what came is sent, marked as not the whole picture.
    expect(r.of('em-b1')[0]!.quality).toBe('uncertain');
    expect(r.of('lift-b1-1')[0]!.quality).toBe('uncertain');
    expect(await counter(r.metrics, 'modbusFieldErrors', 'not_a_number')).toBeGreaterThanOrEqual(1);
    expect(await counter(r.metrics, 'modbusFieldErrors', 'unknown_code')).toBeGreaterThanOrEqual(1);
    expect(r.adapter.deviceStats().get('lift-b1-1')).toMatchObject({ online: true, errors: 0 });
  });

  it('a refused register range is reported once, naming its registers and fields, again as recovered, and again when refused anew', async () => {
    // The gateway's profile asks for a holding register the device (an SDM630) does not have.
    const wrong = parseRegisterProfile(
      [
        'name: sdm630-wrong',
        'description: { zh: "测试", en: "test" }',
        'kind: electricity_meter',
        'manufacturer: test',
        'model: test',
        'addressing: 0',
        'fields:',
        '  voltage_l1_v: { function: 4, register: 0, type: float32, order: ABCD }',
        '  power_kw: { function: 3, register: 100, type: uint16, scale: 0.001 }',
      ].join('\n'),
      'sdm630-wrong.yaml',
    );
    const s = await server([{ unitId: 1, profile: 'eastron-sdm630', values: METER }]);
    const { port } = s;
    const log = recordingLogger();
    const r = run(
      [
        modbusDevice({
          id: 'em-b1',
          kind: 'electricity_meter',
          profile: 'sdm630-wrong',
          host: '127.0.0.1',
          port,
          unitId: 1,
          intervalS: 0.05,
          timeoutMs: 500,
        }),
      ],
      {
        profiles: new Map([...profiles, ['sdm630-wrong', wrong]]),
        logger: log.logger,
        maxBackoffMs: 100,
      },
    );
    await waitFor(() => r.of('em-b1').length >= 5, 3000, 'five polls');
    expect(r.of('em-b1').every((x) => x.quality === 'uncertain')).toBe(true);
    expect(r.of('em-b1')[0]!.fields).toEqual({ voltage_l1_v: METER.voltage_l1_v });
    // Named as the profile numbers it, and as a manual printing Modicon numbers would.
    const refused = /^Modbus device em-b1 refuses holding registers 100 \[40101\] \(power_kw\): .*illegal function/i;
    expect(log.warnings('refuses')).toEqual([expect.stringMatching(refused)]);
    const errors = async () =>
      (await r.metrics.modbusDeviceErrors.get()).values.find(
        (v) => v.labels.device === 'em-b1' && v.labels.failure === 'exception',
      )?.value ?? 0;
    expect(await errors()).toBeGreaterThanOrEqual(5); // every refusal counted, only the first logged
    expect((await r.metrics.modbusDeviceOnline.get()).values.find((v) => v.labels.device === 'em-b1')!.value).toBe(1);

    // The device is replaced by one that has the register: once "answers again", and the reading is whole.
    await s.close();
    const fixed = await startModbusServer({
      port,
      devices: [{ unitId: 1, profile: wrong, values: { voltage_l1_v: 231, power_kw: 1.5 } }],
    });
    onCleanup(() => fixed.close());
    await waitFor(
      () => r.of('em-b1').filter((x) => x.fields.power_kw === 1.5).length >= 3,
      3000,
      'three whole readings',
    );
    expect(r.of('em-b1').at(-1)).toMatchObject({ quality: 'good', fields: { voltage_l1_v: 231, power_kw: 1.5 } });
    expect(log.infos('answer again')).toEqual([
      expect.stringMatching(/^Modbus device em-b1: holding registers 100 \[40101\] \(power_kw\) answer again$/),
    ]);
    expect(log.warnings('refuses')).toHaveLength(1);

    // Refused anew: a new problem, logged again (once).
    await fixed.close();
    await server([{ unitId: 1, profile: 'eastron-sdm630', values: METER }], port);
    const refusedAgainAt = r.readings.length;
    await waitFor(
      () => r.readings.slice(refusedAgainAt).filter((x) => x.quality === 'uncertain').length >= 3,
      3000,
      'three partial readings',
    );
    expect(log.warnings('refuses')).toEqual([expect.stringMatching(refused), expect.stringMatching(refused)]);
    expect(log.infos('answer again')).toHaveLength(1);
  });

  it('a field that does not decode is logged once per device and field, again as recovered, and again when it breaks anew', async () => {
    const s = await server([
      { unitId: 1, profile: 'eastron-sdm630', values: METER },
      { unitId: 2, profile: 'eastron-sdm630', values: METER },
    ]);
    const log = recordingLogger();
    const second = modbusDevice({
      id: 'em-b2',
      kind: 'electricity_meter',
      profile: 'eastron-sdm630',
      host: '127.0.0.1',
      port: s.port,
      unitId: 2,
      intervalS: 0.05,
      timeoutMs: 500,
    });
    const r = run([meter(s.port, 0.05), second], { logger: log.logger });
    const NAN = [0x7fc0, 0x0000];
    const HZ_50 = [0x4248, 0x0000];
    const count = (id: string, what: (x: Reading) => boolean) => r.of(id).filter(what).length;
    const noHz = (x: Reading) => !('frequency_hz' in x.fields);

    s.setRaw(1, 4, 0x46, NAN);
    s.setRaw(2, 4, 0x46, NAN);
    await waitFor(
      () => count('em-b1', noHz) >= 5 && count('em-b2', noHz) >= 5,
      3000,
      'five polls of each meter without a frequency',
    );
    // Once per device: the same field of two devices is two problems.
    expect(log.warnings('frequency_hz left out')).toEqual([
      expect.stringMatching(/^Modbus device em-b1: frequency_hz left out \(not_a_number\)/),
      expect.stringMatching(/^Modbus device em-b2: frequency_hz left out \(not_a_number\)/),
    ]);
    expect(
      r
        .of('em-b1')
        .filter(noHz)
        .every((x) => x.quality === 'uncertain'),
    ).toBe(true);

    s.setRaw(1, 4, 0x46, HZ_50);
    await waitFor(
      () => count('em-b1', (x) => x.fields.frequency_hz === 50) >= 3,
      3000,
      'three readings with a frequency',
    );
    expect(r.of('em-b1').at(-1)!.quality).toBe('good');
    expect(log.infos('decodes again')).toEqual(['Modbus device em-b1: frequency_hz decodes again']);

    s.setRaw(1, 4, 0x46, NAN);
    const brokeAgainAt = r.of('em-b1').length;
    await waitFor(
      () => r.of('em-b1').slice(brokeAgainAt).filter(noHz).length >= 3,
      3000,
      'three readings without a frequency again',
    );
    expect(log.warnings('frequency_hz left out').filter((m) => m.includes('em-b1'))).toHaveLength(2);
    expect(log.warnings('frequency_hz left out').filter((m) => m.includes('em-b2'))).toHaveLength(1);
    expect(log.infos('decodes again')).toHaveLength(1);
  });

  it('a field the device marks as having no value (no_data) is left out silently and keeps the reading good', async () => {
    const boiler = {
      supply_temp_c: 71.5,
      return_temp_c: 52.3,
      setpoint_c: 75,
      pressure_kpa: 180,
      burner_on: true,
      fault: false,
      fault_code: 0,
    };
    const s = await server([{ unitId: 3, profile: 'generic-boiler', values: boiler }]);
    s.setRaw(3, 4, 1, [0x8000]); // return temperature: -32768, the controller's "no sensor"
    const log = recordingLogger();
    const r = run(
      [
        modbusDevice({
          id: 'boiler-1',
          kind: 'boiler',
          profile: 'generic-boiler',
          host: '127.0.0.1',
          port: s.port,
          unitId: 3,
          intervalS: 0.05,
        }),
      ],
      { logger: log.logger },
    );
    await waitFor(() => r.of('boiler-1').length >= 3, 3000, 'three readings');
    const { return_temp_c: _r, ...rest } = boiler;
    expect(r.of('boiler-1')[0]).toMatchObject({ quality: 'good', fields: rest });
    expect(r.of('boiler-1').every((x) => x.quality === 'good' && !('return_temp_c' in x.fields))).toBe(true);
    expect(log.lines.filter((l) => l.level >= 40)).toEqual([]);
    expect(await counter(r.metrics, 'modbusFieldErrors', 'no_data')).toBeGreaterThanOrEqual(3);
  });

  it('a complete poll is quality good; a dead device reads 0 in the per-device online gauge', async () => {
    const s = await server([{ unitId: 1, profile: 'eastron-sdm630', values: METER }]);
    const r = run([
      meter(s.port, 0.05),
      modbusDevice({
        id: 'ghost',
        kind: 'electricity_meter',
        profile: 'eastron-sdm630',
        host: '127.0.0.1',
        port: s.port,
        unitId: 9,
        intervalS: 0.05,
        timeoutMs: 100,
      }),
    ]);
    await waitFor(() => r.of('em-b1').length >= 2 && r.adapter.deviceStats().get('ghost')!.timeouts > 0, 3000, 'polls');
    expect(r.of('em-b1').every((x) => x.quality === 'good')).toBe(true);
    const online = (await r.metrics.modbusDeviceOnline.get()).values;
    expect(online.find((v) => v.labels.device === 'ghost')!.value).toBe(0);
    expect(r.adapter.health()).toMatchObject({
      status: 'ok',
      offline: ['ghost'],
      detail: '1 of 2 Modbus device(s) not answering: ghost',
    });
  });

  it('stop() ends polling, closes the connection and emits nothing afterwards', async () => {
    const s = await server([{ unitId: 1, profile: 'eastron-sdm630', values: METER }]);
    // Real timers, counted: those set and neither fired nor cleared yet.
    const armed = new Set<unknown>();
    const timers: Timers = {
      setTimeout: (fn, ms) => {
        const handle = realTimers.setTimeout(() => {
          armed.delete(handle);
          fn();
        }, ms);
        armed.add(handle);
        return handle;
      },
      clearTimeout: (handle) => {
        armed.delete(handle);
        realTimers.clearTimeout(handle);
      },
    };
    const r = run([meter(s.port, 0.05)], { timers });
    await waitFor(() => r.of('em-b1').length >= 2, 3000, 'readings');
    await r.adapter.stop();
    const readings = r.readings.length;
    const requests = s.requests().length;
    await waitFor(() => s.connections() === 0, 2000, 'the connection to close');
    // Nothing is left armed: no poll, no request timeout, no reconnect can come.
    expect(armed.size).toBe(0);
    expect(r.readings.length).toBe(readings);
    expect(s.requests().length).toBe(requests);
  });

  it('refuses, before connecting anywhere, a device whose profile is missing or of another kind', () => {
    const wrongKind = modbusDevice({
      id: 'x',
      kind: 'pump',
      profile: 'eastron-sdm630',
      host: '127.0.0.1',
      port: 1502,
      unitId: 1,
      intervalS: 1,
    });
    const missing = modbusDevice({
      id: 'y',
      kind: 'pump',
      profile: 'grundfos-cim-v2',
      host: '127.0.0.1',
      port: 1502,
      unitId: 2,
      intervalS: 1,
    });
    expect(
      () =>
        new ModbusAdapter({
          devices: [wrongKind, missing],
          profiles,
          clock: systemClock,
          metrics: new Metrics(),
          logger: quietLogger,
        }),
    ).toThrow(ModbusConfigError);
    expect(
      () =>
        new ModbusAdapter({
          devices: [wrongKind, missing],
          profiles,
          clock: systemClock,
          metrics: new Metrics(),
          logger: quietLogger,
        }),
    ).toThrow(
      /device "x" has kind pump, but profile "eastron-sdm630" is for kind electricity_meter[\s\S]*device "y": no register profile "grundfos-cim-v2"/,
    );
  });

  it('with no Modbus devices it is healthy and idle', async () => {
    const r = run([]);
    expect(r.adapter.health()).toMatchObject({ status: 'ok', detail: 'no Modbus devices configured' });
    expect(r.adapter.deviceStats().size).toBe(0);
  });
});

describe('describeRegisters (how a request is named in logs)', () => {
  const request = (profile: string, i: number) => planReads(profiles.get(profile)!)[i]!;

  it("names a request in the profile's own numbering, in Modicon numbering, and with its fields", () => {
    const sdm = profiles.get('eastron-sdm630')!;
    expect(describeRegisters(sdm, request('eastron-sdm630', 0))).toBe(
      'input registers 0–11 [30001–30012] (voltage_l1_v, voltage_l2_v, voltage_l3_v, current_l1_a, current_l2_a, current_l3_a)',
    );
    // A 1-based profile: its register 1 is address 0, as the manual prints it.
    const tuf = profiles.get('tuf-2000m')!;
    expect(describeRegisters(tuf, request('tuf-2000m', 0))).toMatch(
      /^holding registers 1–\d+ \[40001–4\d{4}\] \(flow_m3h, total_m3\)$/,
    );
  });

  it('uses six-digit Modicon numbers beyond address 9998, and names coils and single registers', () => {
    const p = profiles.get('eastron-sdm630')!;
    expect(
      describeRegisters(p, {
        function: 3,
        start: 10_000,
        count: 2,
        fields: [{ name: 'power_kw', offset: 0, count: 2 }],
      }),
    ).toBe('holding registers 10000–10001 [410001–410002] (power_kw)');
    expect(
      describeRegisters(p, { function: 1, start: 4, count: 1, fields: [{ name: 'run_command', offset: 0, count: 1 }] }),
    ).toBe('coils 4 [00005] (run_command)');
  });
});
