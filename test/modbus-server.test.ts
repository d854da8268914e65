import { beforeAll, describe, expect, it } from 'vitest';
import { createConnection } from 'node:net';
import { ModbusLink } from '../gateway/adapters/modbus/link.js';
import { planReads } from '../gateway/adapters/modbus/plan.js';
import { pollDevice } from '../gateway/adapters/modbus/poll.js';
import { realTimers, systemClock } from '../gateway/ports/clock.js';
import { loadRegisterProfiles, parseRegisterProfile, type RegisterProfile } from '../gateway/profiles/profile.js';
import { startModbusServer, type ModbusServer } from '../simulators/modbus/server.js';
import { cleanupEach, failure, waitFor } from './modbus-helpers.js';

// The Modbus TCP simulator, driven over loopback by the gateway's own client (modbus-serial
// underneath): one port, many unit ids, each serving its profile's registers.

let profiles: Map<string, RegisterProfile>;
beforeAll(() => {
  profiles = loadRegisterProfiles();
});

const onCleanup = cleanupEach();

async function server(opts: Parameters<typeof startModbusServer>[0]): Promise<ModbusServer> {
  const s = await startModbusServer(opts);
  onCleanup(() => s.close());
  return s;
}
function link(s: ModbusServer): ModbusLink {
  const l = new ModbusLink(
    { transport: 'tcp', host: s.host, port: s.port },
    { timers: realTimers, connectTimeoutMs: 2000 },
  );
  onCleanup(() => l.close());
  return l;
}

describe('Modbus TCP simulator', () => {
  it('hosts several units on one port, each serving its own profile', async () => {
    const sdm = profiles.get('eastron-sdm630')!;
    const pump = profiles.get('grundfos-cim')!;
    const s = await server({
      devices: [
        { unitId: 1, profile: sdm, values: { voltage_l1_v: 230.1, frequency_hz: 50 } },
        { unitId: 7, profile: pump, values: { running: true, warning: true, alarm_code: 57, pressure_kpa: 312.5 } },
      ],
    });
    const l = link(s);
    const meter = await pollDevice('electricity_meter', sdm, planReads(sdm), (fn, start, count) =>
      l.read(1, fn, start, count, 1000),
    );
    expect(meter.fields).toMatchObject({ voltage_l1_v: 230.1, frequency_hz: 50, voltage_l2_v: 0 });
    const p = await pollDevice('pump', pump, planReads(pump), (fn, start, count) => l.read(7, fn, start, count, 1000));
    expect(p.fields).toMatchObject({ running: true, fault: false, warning: true, alarm_code: 57, pressure_kpa: 312.5 });

    // Live update; flags sharing a status register change independently.
    s.set(7, { running: false });
    const again = await pollDevice('pump', pump, planReads(pump), (fn, start, count) =>
      l.read(7, fn, start, count, 1000),
    );
    expect(again.fields).toMatchObject({ running: false, warning: true, alarm_code: 57 });
    expect(s.requests(7).map((r) => [r.function, r.start, r.count, r.outcome])).toEqual([
      [3, 100, 1, 'data'],
      [4, 200, 5, 'data'],
      [4, 300, 9, 'data'],
      [3, 100, 1, 'data'],
      [4, 200, 5, 'data'],
      [4, 300, 9, 'data'],
    ]);
    expect(s.connections()).toBe(1);
  });

  it('serves coils and discrete inputs packed as bits', async () => {
    const sump = profiles.get('generic-sump-level')!;
    const s = await server({ devices: [{ unitId: 3, profile: sump, values: { level_pct: 81.5, high_float: true } }] });
    const l = link(s);
    s.setRaw(3, 2, 1, [false, true, true]);
    expect(await l.read(3, 2, 0, 11, 1000)).toEqual([
      true,
      false,
      true,
      true,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(await l.read(3, 4, 0, 1, 1000)).toEqual([815]);
  });

  it('a unit id nobody configured does not answer (a dead slave behind a converter)', async () => {
    const s = await server({ devices: [{ unitId: 1, profile: profiles.get('eastron-sdm630')!, values: {} }] });
    const l = link(s);
    const started = systemClock.now();
    const err = await failure(l.read(9, 4, 0, 2, 150));
    expect(err.failure).toBe('timeout');
    expect(systemClock.now() - started).toBeGreaterThanOrEqual(140);
    expect(s.requests(9)).toEqual([expect.objectContaining({ outcome: 'silent', function: 4, start: 0, count: 2 })]);
    // The connection survives: the configured unit still answers.
    expect(await l.read(1, 4, 0, 2, 500)).toEqual([0, 0]);
  });

  it('or answers exception 0x0B, as some gateways do, when asked to', async () => {
    const s = await server({ devices: [], unknownUnit: 'exception' });
    const err = await failure(link(s).read(9, 3, 0, 1, 1000));
    expect(err.failure).toBe('exception');
    expect(err.exceptionCode).toBe(11);
  });

  it('an offline unit times out until it is back; a delayed unit answers late', async () => {
    const sdm = profiles.get('eastron-sdm630')!;
    const s = await server({ devices: [{ unitId: 1, profile: sdm, values: { voltage_l1_v: 230 } }] });
    const l = link(s);
    s.setOffline(1, true);
    expect((await failure(l.read(1, 4, 0, 2, 100))).failure).toBe('timeout');
    s.setOffline(1, false);
    expect(await l.read(1, 4, 0, 2, 1000)).toEqual([0x4366, 0]);
    s.setDelay(1, 150);
    const started = systemClock.now();
    await l.read(1, 4, 0, 2, 1000);
    expect(systemClock.now() - started).toBeGreaterThanOrEqual(140);
    expect((await failure(l.read(1, 4, 0, 2, 50))).failure).toBe('timeout');
  });

  it('refuses reads the real device refuses: unused function 01, too many registers 03, a no_span range 02', async () => {
    const guarded = parseRegisterProfile(
      [
        'name: guarded',
        'description: { zh: "测试", en: "test" }',
        'kind: boiler',
        'manufacturer: test',
        'model: test',
        'addressing: 1',
        'no_span: [{ from: 10, to: 19, reason: "reserved" }]',
        'fields:',
        '  supply_temp_c: { function: 4, register: 1, type: int16, scale: 0.1 }',
        '  pressure_kpa: { function: 4, register: 20, type: uint16 }',
      ].join('\n'),
      'guarded.yaml',
    );
    const s = await server({
      devices: [{ unitId: 1, profile: guarded, values: { supply_temp_c: 71.5, pressure_kpa: 180 } }],
    });
    const l = link(s);
    expect((await failure(l.read(1, 3, 0, 1, 1000))).exceptionCode).toBe(1);
    expect((await failure(l.read(1, 4, 0, 126, 1000))).exceptionCode).toBe(3);
    // Manual registers 10-19 are wire addresses 9-18 (1-based profile).
    expect((await failure(l.read(1, 4, 0, 10, 1000))).exceptionCode).toBe(2);
    expect((await failure(l.read(1, 4, 18, 2, 1000))).exceptionCode).toBe(2);
    expect(await l.read(1, 4, 0, 9, 1000)).toEqual([715, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(await l.read(1, 4, 19, 1, 1000)).toEqual([180]);
    // The planner keeps those two fields in separate requests for exactly this reason.
    expect(planReads(guarded).map((r) => [r.start, r.count])).toEqual([
      [0, 1],
      [19, 1],
    ]);
  });

  it('takes writes (05, 06, 15, 16) only where the profile declares a writable field, as a real device: 01, 02, 03 otherwise', async () => {
    const controller = parseRegisterProfile(
      [
        'name: controller',
        'description: { zh: "测试", en: "test" }',
        'kind: boiler',
        'manufacturer: test',
        'model: test',
        'addressing: 0',
        'fields:',
        '  burner_on: { function: 1, register: 0, type: bool, writable: true }',
        '  setpoint_c: { function: 3, register: 10, type: float32, writable: true }',
        '  pressure_kpa: { function: 3, register: 20, type: uint16 }',
      ].join('\n'),
      'controller.yaml',
    );
    const s = await server({
      devices: [
        { unitId: 1, profile: controller, values: { burner_on: false, setpoint_c: 60, pressure_kpa: 150 } },
        { unitId: 2, profile: profiles.get('eastron-sdm630')!, values: {} },
      ],
    });
    const l = link(s);
    await l.write(1, 1, 0, [true], 1000);
    expect(await l.read(1, 1, 0, 1, 1000)).toEqual([true]);
    await l.write(1, 3, 10, [0x4290, 0x0000], 1000); // 72.0 as float32, high word first
    expect(await l.read(1, 3, 10, 2, 1000)).toEqual([0x4290, 0]);
    expect(
      s
        .requests(1)
        .filter((r) => r.function >= 5)
        .map((r) => [r.function, r.start, r.values, r.outcome]),
    ).toEqual([
      [5, 0, [true], 'data'],
      [16, 10, [0x4290, 0], 'data'],
    ]);

    // A read-only holding register, a coil past the writable one, a write of several coils reaching past it.
    expect((await failure(l.write(1, 3, 20, [5], 1000))).exceptionCode).toBe(2);
    expect((await failure(l.write(1, 1, 1, [true], 1000))).exceptionCode).toBe(2);
    expect((await failure(l.write(1, 1, 0, [true, true], 1000))).exceptionCode).toBe(2);
    // A meter with nothing writable has no write functions at all.
    expect((await failure(l.write(2, 3, 0, [1], 1000))).exceptionCode).toBe(1);
    expect((await failure(l.write(2, 1, 0, [true], 1000))).exceptionCode).toBe(1);
    expect(await l.read(1, 3, 20, 1, 1000)).toEqual([150]);
  });

  it('refuses values a profile cannot encode and unknown units, with clear errors', async () => {
    const sdm = profiles.get('eastron-sdm630')!;
    await expect(startModbusServer({ devices: [{ unitId: 1, profile: sdm, values: { floor: 3 } }] })).rejects.toThrow(
      /no field floor/,
    );
    await expect(startModbusServer({ devices: [{ unitId: 0, profile: sdm, values: {} }] })).rejects.toThrow(/1…247/);
    const s = await server({ devices: [{ unitId: 1, profile: sdm, values: {} }] });
    expect(() => s.set(2, { voltage_l1_v: 1 })).toThrow(/no simulated unit 2/);
  });

  it('drops a client that does not speak Modbus TCP, and frees its port on close', async () => {
    const s = await server({ devices: [{ unitId: 1, profile: profiles.get('eastron-sdm630')!, values: {} }] });
    const sock = createConnection({ host: s.host, port: s.port });
    const closed = new Promise((r) => sock.on('close', r));
    sock.on('error', () => undefined);
    sock.write('GET / HTTP/1.1\r\n\r\n');
    await closed;
    await waitFor(() => s.connections() === 0, 2000, 'the server to forget the socket');
    await s.close();
    const again = await server({ port: s.port, devices: [] });
    expect(again.port).toBe(s.port);
  });
});
