import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { ModbusAdapter, type ModbusAdapterOptions } from '../gateway/adapters/modbus/adapter.js';
import { ModbusConfigError } from '../gateway/adapters/modbus/devices.js';
import { planReads } from '../gateway/adapters/modbus/plan.js';
import { systemClock } from '../gateway/clock.js';
import { Metrics } from '../gateway/metrics.js';
import { loadRegisterProfiles, parseRegisterProfile, type RegisterProfile } from '../gateway/profiles/profile.js';
import type { FieldValue, Reading } from '../rules/model/reading.js';
import { startModbusServer, type ModbusServer, type SimulatedDevice } from '../simulators/modbus/server.js';
import { cleanupEach, modbusDevice, quietLogger, waitFor } from './modbus-helpers.js';

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
const PUMP: Record<string, FieldValue> = { running: true, fault: false, warning: true, alarm_code: 57, pressure_kpa: 345.6, flow_m3h: 12.3, current_a: 4.5 };
const FLOW: Record<string, FieldValue> = { flow_m3h: 12.5, total_m3: 1234.25, error_code: 0 };

async function server(devices: { unitId: number; profile: string; values: Record<string, FieldValue> }[], port = 0): Promise<ModbusServer> {
  const s = await startModbusServer({ port, devices: devices.map((d): SimulatedDevice => ({ ...d, profile: profiles.get(d.profile)! })) });
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
  adapter.start((r) => readings.push({ ...r, receivedAt: Date.now() }));
  onCleanup(() => adapter.stop());
  return { adapter, metrics, readings, of: (id) => readings.filter((r) => r.deviceId === id) };
}

const meter = (port: number, intervalS = 0.2, timeoutMs = 500) =>
  modbusDevice({ id: 'em-b1', kind: 'electricity_meter', profile: 'eastron-sdm630', host: '127.0.0.1', port, unitId: 1, intervalS, timeoutMs });
const pump = (port: number, intervalS = 0.2, timeoutMs = 500) =>
  modbusDevice({ id: 'pump-b1', kind: 'pump', profile: 'grundfos-cim', host: '127.0.0.1', port, unitId: 2, intervalS, timeoutMs });
const flowMeter = (port: number, intervalS = 0.2) =>
  modbusDevice({ id: 'wm-b1', kind: 'water_meter', profile: 'tuf-2000m', host: '127.0.0.1', port, unitId: 1, intervalS, timeoutMs: 500 });

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
    const started = Date.now();
    const r = run([meter(converter.port), pump(converter.port), flowMeter(flow.port)]);
    await waitFor(() => r.of('em-b1').length && r.of('pump-b1').length && r.of('wm-b1').length, 3000, 'a reading from each device');

    const first = (id: string) => r.of(id)[0]!;
    expect(first('em-b1')).toMatchObject({ deviceId: 'em-b1', kind: 'electricity_meter', quality: 'good', fields: METER });
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
    expect(stats).toMatchObject({ online: true, errors: 0, timeouts: 0, consecutiveFailures: 0, backoffUntil: null, endpoint: `tcp://127.0.0.1:${converter.port}` });
    expect(stats.lastOkAt).toBeGreaterThanOrEqual(started);
    expect(await r.metrics.readingsReceived.get()).toMatchObject({ values: [expect.objectContaining({ labels: { protocol: 'modbus' } })] });
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

    const expectRequests = (s: ModbusServer, unit: number, id: string, profile: string) => {
      const plan = planReads(profiles.get(profile)!).map((q) => [q.function, q.start, q.count]);
      const polls = r.adapter.deviceStats().get(id)!.polls;
      expect(r.of(id)).toHaveLength(polls); // every poll answered, one reading each
      const seen = s.requests(unit).map((q) => [q.function, q.start, q.count]);
      expect(seen).toEqual(Array.from({ length: polls }, () => plan).flat());
      return plan.length;
    };
    expect(expectRequests(converter, 1, 'em-b1', 'eastron-sdm630')).toBe(3);
    expect(expectRequests(converter, 2, 'pump-b1', 'grundfos-cim')).toBe(2);
    expect(expectRequests(flow, 1, 'wm-b1', 'tuf-2000m')).toBe(2);
    expect(await counter(r.metrics, 'modbusRequests', 'ok')).toBe(converter.requests().length + flow.requests().length);
  });

  it('a dead slave backs off (1, 2, 4 intervals, then capped) without costing its neighbour a poll, and comes back', async () => {
    const converter = await server([
      { unitId: 1, profile: 'eastron-sdm630', values: METER },
      { unitId: 2, profile: 'grundfos-cim', values: PUMP },
    ]);
    converter.setOffline(2, true);
    const intervalMs = 200;
    const capMs = 800;
    const r = run([meter(converter.port, intervalMs / 1000, 100), pump(converter.port, intervalMs / 1000, 100)], { maxBackoffMs: capMs });

    // Let the dead pump reach the cap (attempts at 0, 200, 600, 1400 ms…).
    await waitFor(() => (r.adapter.deviceStats().get('pump-b1')!.consecutiveFailures >= 3 ? true : undefined), 3000, 'the pump to fail 3 polls');
    const windowStart = Date.now();
    const before = r.of('em-b1').length;
    await new Promise((res) => setTimeout(res, 2000)); // the measured window
    const inWindow = r.of('em-b1').length - before;
    const windowMs = Date.now() - windowStart;
    // The healthy meter keeps its rate: one reading per interval (±1 at the window's edges).
    expect(inWindow).toBeGreaterThanOrEqual(Math.floor(windowMs / intervalMs) - 1);
    // …and its period, measured at the device (first request of each poll), within 10 % of the interval.
    const polls = converter.requests(1).filter((q) => q.start === 0 && q.at >= windowStart && q.at <= windowStart + windowMs).map((q) => q.at);
    const period = (polls.at(-1)! - polls[0]!) / (polls.length - 1);
    expect(Math.abs(period - intervalMs) / intervalMs, `mean period ${period} ms`).toBeLessThanOrEqual(0.1);
    expect(r.adapter.deviceStats().get('em-b1')).toMatchObject({ skipped: 0, errors: 0, timeouts: 0, online: true });
    expect(r.of('pump-b1')).toHaveLength(0); // every request failed: no reading at all

    // The dead pump was asked ever less often, up to the cap (one request per attempt:
    // after a timeout the rest of its poll is not sent).
    const attempts = converter.requests(2).map((q) => q.at);
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    expect(gaps.length).toBeGreaterThanOrEqual(4);
    const near = (gap: number, want: number) => expect(Math.abs(gap - want), `gap ${gap} ms, wanted ${want} (gaps: ${gaps.join(', ')})`).toBeLessThan(80);
    near(gaps[0]!, intervalMs);
    near(gaps[1]!, 2 * intervalMs);
    for (const g of gaps.slice(2)) near(g, capMs);
    const stats = r.adapter.deviceStats().get('pump-b1')!;
    expect(stats).toMatchObject({ online: false, errors: 0, lastOkAt: null });
    expect(stats.timeouts).toBe(attempts.length);
    expect(stats.lastError).toMatch(/no answer from unit 2 within 100 ms/);
    expect(stats.backoffUntil).not.toBeNull();
    expect(stats.backoffUntil! - Date.now()).toBeLessThanOrEqual(capMs);
    // One dead device is an alarm for the duty room, not a sick gateway.
    expect(r.adapter.health()).toMatchObject({ status: 'ok', devices: { online: 1, offline: 1, backedOff: 1 }, offline: ['pump-b1'] });
    expect(await counter(r.metrics, 'modbusRequests', 'timeout')).toBe(attempts.length);

    // Back: the next (capped) attempt answers and the pump returns to its normal rate.
    converter.setOffline(2, false);
    const back = Date.now();
    await waitFor(() => r.of('pump-b1').length, capMs + intervalMs + 1000, 'the pump to answer again');
    expect(Date.now() - back).toBeLessThan(capMs + intervalMs + 300);
    expect(r.of('pump-b1')[0]!.fields).toEqual(PUMP);
    expect(r.adapter.deviceStats().get('pump-b1')).toMatchObject({ online: true, consecutiveFailures: 0, backoffUntil: null });
    const recovered = r.of('pump-b1').length;
    await waitFor(() => r.of('pump-b1').length >= recovered + 4, 4 * intervalMs + 500, 'the pump back on its interval');
  });

  it('reconnects when the device server restarts on the same port, and readings resume', async () => {
    const first = await server([{ unitId: 1, profile: 'eastron-sdm630', values: METER }]);
    const port = first.port;
    const r = run([meter(port, 0.1, 200)], { maxBackoffMs: 400 });
    await waitFor(() => r.of('em-b1').length, 3000, 'a first reading');

    await first.close();
    await waitFor(() => !r.adapter.deviceStats().get('em-b1')!.online, 3000, 'the meter to be seen offline');
    expect(r.adapter.health()).toMatchObject({ status: 'down', detail: expect.stringContaining(`tcp://127.0.0.1:${port}`) });
    expect(r.adapter.deviceStats().get('em-b1')!.lastError).toMatch(/ECONNREFUSED|closed|lost/);

    const restarted = await server([{ unitId: 1, profile: 'eastron-sdm630', values: { ...METER, voltage_l1_v: 240 } }], port);
    expect(restarted.port).toBe(port);
    await waitFor(() => r.of('em-b1').some((x) => x.fields.voltage_l1_v === 240), 3000, 'readings from the restarted device');
    expect(r.adapter.deviceStats().get('em-b1')).toMatchObject({ online: true, consecutiveFailures: 0 });
    expect(r.adapter.health()).toMatchObject({ status: 'ok', endpoints: [expect.objectContaining({ connected: true, connections: 2 })] });
    expect((await r.metrics.modbusConnections.get()).values[0]!.value).toBe(2);
    expect(restarted.connections()).toBe(1);
  });

  it('leaves a field that does not decode out of the reading, counts it, and sends the rest', async () => {
    const lift = { floor: 7, direction: 'up', door: 'closed', in_door_zone: true, occupied: false, alarm_button: false, mode: 'normal', fault_code: 0 };
    const s = await server([
      { unitId: 1, profile: 'eastron-sdm630', values: METER },
      { unitId: 5, profile: 'generic-lift-terminal', values: lift },
    ]);
    s.setRaw(1, 4, 0x46, [0x7fc0, 0x0000]); // frequency: float32 NaN
    s.setRaw(5, 3, 1, [9]); // direction code 9: not in the map
    const liftDevice = modbusDevice({ id: 'lift-b1-1', kind: 'lift', profile: 'generic-lift-terminal', host: '127.0.0.1', port: s.port, unitId: 5, intervalS: 0.2 });
    const r = run([meter(s.port), liftDevice]);
    await waitFor(() => r.of('em-b1').length && r.of('lift-b1-1').length, 3000, 'readings');
    const { frequency_hz: _f, ...meterRest } = METER;
    const { direction: _d, ...liftRest } = lift;
    expect(r.of('em-b1')[0]!.fields).toEqual(meterRest);
    expect(r.of('lift-b1-1')[0]!.fields).toEqual(liftRest);
    expect(await counter(r.metrics, 'modbusFieldErrors', 'not_a_number')).toBeGreaterThanOrEqual(1);
    expect(await counter(r.metrics, 'modbusFieldErrors', 'unknown_code')).toBeGreaterThanOrEqual(1);
    expect(r.adapter.deviceStats().get('lift-b1-1')).toMatchObject({ online: true, errors: 0 });
  });

  it('a refused register range is reported once, naming its registers and fields; the rest arrives marked uncertain', async () => {
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
    const lines: { level: number; msg: string; registers?: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    const r = run([modbusDevice({ id: 'em-b1', kind: 'electricity_meter', profile: 'sdm630-wrong', host: '127.0.0.1', port: s.port, unitId: 1, intervalS: 0.05, timeoutMs: 500 })], {
      profiles: new Map([...profiles, ['sdm630-wrong', wrong]]),
      logger,
    });
    await waitFor(() => r.of('em-b1').length >= 5, 3000, 'five polls');
    expect(r.of('em-b1').every((x) => x.quality === 'uncertain')).toBe(true);
    expect(r.of('em-b1')[0]!.fields).toEqual({ voltage_l1_v: METER.voltage_l1_v });
    const refusals = lines.filter((l) => l.msg.includes('refuses'));
    expect(refusals.map((l) => l.msg)).toEqual([expect.stringMatching(/^Modbus device em-b1 refuses holding registers 100 \(power_kw\): /)]);
    const errors = (await r.metrics.modbusDeviceErrors.get()).values.find((v) => v.labels.device === 'em-b1' && v.labels.failure === 'exception');
    expect(errors!.value).toBeGreaterThanOrEqual(5);
    expect((await r.metrics.modbusDeviceOnline.get()).values.find((v) => v.labels.device === 'em-b1')!.value).toBe(1);
  });

  it('a complete poll is quality good; a dead device reads 0 in the per-device online gauge', async () => {
    const s = await server([{ unitId: 1, profile: 'eastron-sdm630', values: METER }]);
    const r = run([meter(s.port, 0.05), modbusDevice({ id: 'ghost', kind: 'electricity_meter', profile: 'eastron-sdm630', host: '127.0.0.1', port: s.port, unitId: 9, intervalS: 0.05, timeoutMs: 100 })]);
    await waitFor(() => r.of('em-b1').length >= 2 && r.adapter.deviceStats().get('ghost')!.timeouts > 0, 3000, 'polls');
    expect(r.of('em-b1').every((x) => x.quality === 'good')).toBe(true);
    const online = (await r.metrics.modbusDeviceOnline.get()).values;
    expect(online.find((v) => v.labels.device === 'ghost')!.value).toBe(0);
    expect(r.adapter.health()).toMatchObject({ status: 'ok', offline: ['ghost'], detail: '1 Modbus device(s) not answering' });
  });

  it('stop() ends polling, closes the connection and emits nothing afterwards', async () => {
    const s = await server([{ unitId: 1, profile: 'eastron-sdm630', values: METER }]);
    const r = run([meter(s.port, 0.05)]);
    await waitFor(() => r.of('em-b1').length >= 2, 3000, 'readings');
    await r.adapter.stop();
    const readings = r.readings.length;
    const requests = s.requests().length;
    await waitFor(() => s.connections() === 0, 2000, 'the connection to close');
    await new Promise((res) => setTimeout(res, 200)); // four intervals in which nothing may happen
    expect(r.readings.length).toBe(readings);
    expect(s.requests().length).toBe(requests);
  });

  it('refuses, before connecting anywhere, a device whose profile is missing or of another kind', () => {
    const wrongKind = modbusDevice({ id: 'x', kind: 'pump', profile: 'eastron-sdm630', host: '127.0.0.1', port: 1502, unitId: 1, intervalS: 1 });
    const missing = modbusDevice({ id: 'y', kind: 'pump', profile: 'grundfos-cim-v2', host: '127.0.0.1', port: 1502, unitId: 2, intervalS: 1 });
    expect(() => new ModbusAdapter({ devices: [wrongKind, missing], profiles, clock: systemClock, metrics: new Metrics(), logger: quietLogger })).toThrow(ModbusConfigError);
    expect(() => new ModbusAdapter({ devices: [wrongKind, missing], profiles, clock: systemClock, metrics: new Metrics(), logger: quietLogger })).toThrow(
      /device "x" has kind pump, but profile "eastron-sdm630" is for kind electricity_meter[\s\S]*device "y": no register profile "grundfos-cim-v2"/,
    );
  });

  it('with no Modbus devices it is healthy and idle', async () => {
    const r = run([]);
    expect(r.adapter.health()).toMatchObject({ status: 'ok', detail: 'no Modbus devices configured' });
    expect(r.adapter.deviceStats().size).toBe(0);
  });
});
