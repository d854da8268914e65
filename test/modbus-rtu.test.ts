import { beforeAll, describe, expect, it } from 'vitest';
import { ModbusAdapter } from '../gateway/adapters/modbus/adapter.js';
import { systemClock } from '../gateway/ports/clock.js';
import { Metrics } from '../gateway/metrics.js';
import { loadRegisterProfiles, type RegisterProfile } from '../gateway/profiles/profile.js';
import type { FieldValue, Reading } from '../rules/model/reading.js';
import { startModbusRtuServer, type ModbusRtuServer } from '../simulators/modbus/rtu-server.js';
import { cleanupEach, modbusDevice, nullModem, quietLogger, waitFor } from './modbus-helpers.js';

// Modbus RTU through a real serial stack (serialport, termios, modbus-serial's RTU framing
// and CRC) on a virtual null-modem cable: two pseudo-terminals joined back to back. No
// RS-485 hardware is involved, so line turnaround, real baud-rate timing and noise are not
// tested here.

let profiles: Map<string, RegisterProfile>;
beforeAll(() => {
  profiles = loadRegisterProfiles();
});

const onCleanup = cleanupEach();

const METER: Record<string, FieldValue> = {
  voltage_l1_v: 229.9,
  voltage_l2_v: 230.2,
  voltage_l3_v: 231,
  current_l1_a: 1.5,
  current_l2_a: 0,
  current_l3_a: 2.25,
  power_kw: 0.82,
  frequency_hz: 49.98,
  energy_import_kwh: 8812.4,
  energy_export_kwh: 0,
};
const FLOW: Record<string, FieldValue> = { flow_m3h: 0.75, total_m3: 310.5, error_code: 0 };
const LIFT: Record<string, FieldValue> = {
  floor: -1,
  direction: 'stopped',
  door: 'open',
  in_door_zone: true,
  occupied: true,
  alarm_button: false,
  mode: 'normal',
  fault_code: 0,
};

async function line(): Promise<{ gatewaySide: string; sim: ModbusRtuServer }> {
  const [gatewaySide, deviceSide] = await nullModem(onCleanup);
  const sim = await startModbusRtuServer({
    path: deviceSide,
    devices: [
      { unitId: 1, profile: profiles.get('eastron-sdm630')!, values: METER },
      { unitId: 2, profile: profiles.get('tuf-2000m')!, values: FLOW },
      { unitId: 3, profile: profiles.get('generic-lift-terminal')!, values: LIFT },
    ],
  });
  onCleanup(() => sim.close());
  return { gatewaySide, sim };
}

function run(serialPort: string, intervalS: number, timeoutMs: number, maxBackoffMs?: number) {
  const rtu = { transport: 'rtu' as const, serialPort, baudRate: 9600, intervalS, timeoutMs };
  const metrics = new Metrics();
  const adapter = new ModbusAdapter({
    devices: [
      modbusDevice({ id: 'em-pump-room', kind: 'electricity_meter', profile: 'eastron-sdm630', unitId: 1, ...rtu }),
      modbusDevice({ id: 'wm-main', kind: 'water_meter', profile: 'tuf-2000m', unitId: 2, ...rtu }),
      modbusDevice({ id: 'lift-a', kind: 'lift', profile: 'generic-lift-terminal', unitId: 3, ...rtu }),
    ],
    profiles,
    clock: systemClock,
    metrics,
    logger: quietLogger,
    ...(maxBackoffMs ? { maxBackoffMs } : {}),
  });
  const readings: Reading[] = [];
  adapter.start((r) => readings.push(r));
  onCleanup(() => adapter.stop());
  return { adapter, metrics, readings, of: (id: string) => readings.filter((r) => r.deviceId === id) };
}

describe('ModbusAdapter over RTU (pseudo-terminal null-modem)', () => {
  it('reads three slaves on one serial line, strictly one request at a time', async () => {
    const { gatewaySide, sim } = await line();
    sim.setDelay(1, 60); // the meter answers slowly: nobody may talk over it
    const r = run(gatewaySide, 0.25, 500);
    await waitFor(
      () => r.of('em-pump-room').length >= 3 && r.of('wm-main').length >= 3 && r.of('lift-a').length >= 3,
      5000,
      'three readings of each slave',
    );
    expect(r.of('em-pump-room')[0]!.fields).toEqual(METER);
    expect(r.of('wm-main')[0]!.fields).toEqual(FLOW);
    expect(r.of('lift-a')[0]!.fields).toEqual(LIFT);

    // After each request to the slow meter, the line stays quiet until it has answered.
    const log = sim.requests();
    const afterMeter = log.flatMap((q, i) => (q.unitId === 1 && log[i + 1] ? [log[i + 1]!.at - q.at] : []));
    expect(afterMeter.length).toBeGreaterThanOrEqual(6);
    for (const gap of afterMeter) expect(gap).toBeGreaterThanOrEqual(55);
    expect(r.adapter.health()).toMatchObject({
      status: 'ok',
      endpoints: [expect.objectContaining({ endpoint: `rtu:${gatewaySide}`, connected: true, connections: 1 })],
    });
  });

  it('a dead slave on the line: the others keep reading, the port is reopened after its timeouts, it comes back', async () => {
    const { gatewaySide, sim } = await line();
    sim.setOffline(2, true);
    const r = run(gatewaySide, 0.2, 100, 800);
    await waitFor(
      () => (r.adapter.deviceStats().get('wm-main')!.consecutiveFailures >= 3 ? true : undefined),
      4000,
      'the flow meter to fail 3 polls',
    );
    const before = r.of('em-pump-room').length;
    const started = systemClock.now();
    await waitFor(
      () => r.of('em-pump-room').length >= before + 5,
      5 * 200 + 600,
      'five more meter readings at its interval',
    );
    expect(systemClock.now() - started).toBeLessThan(5 * 200 + 600);
    expect(r.of('wm-main')).toHaveLength(0);
    expect(r.adapter.deviceStats().get('em-pump-room')).toMatchObject({ online: true, skipped: 0 });
    expect(r.adapter.deviceStats().get('lift-a')).toMatchObject({ online: true });
    // A stale late answer must not be taken for the next request's: the port is reopened after every timeout.
    const opened = (await r.metrics.modbusConnections.get()).values[0]!.value;
    expect(opened).toBe(1 + r.adapter.deviceStats().get('wm-main')!.timeouts);

    sim.setOffline(2, false);
    await waitFor(() => r.of('wm-main').length, 800 + 200 + 1000, 'the flow meter to answer again');
    expect(r.of('wm-main')[0]!.fields).toEqual(FLOW);
  });
});
