// The gateway's side of one Modbus bench step, in a process of its own started with the
// launcher's memory flags (app/launch.ts), as `dutyroom start` runs the poller: the real
// ModbusAdapter polls the simulated converters of bench/modbus-servers.ts for a window and
// prints one JSON line with what it got and the CPU it used.
//   node <launcher flags> dist/bench/modbus-poller.js '{"ports":[…],"unitsPerEndpoint":50,…}'
import pino from 'pino';
import { lineSlot, ModbusAdapter } from '../gateway/adapters/modbus/adapter.js';
import { systemClock } from '../gateway/clock.js';
import { modbusDevice } from '../gateway/config/schema.js';
import { Metrics } from '../gateway/metrics.js';
import { loadRegisterProfiles } from '../gateway/profiles/profile.js';
import { profileWindow } from './profile.js';

export interface PollerArgs {
  devices: number;
  ports: number[];
  unitsPerEndpoint: number;
  inFlight: number;
  timeoutMs: number;
  seconds: number;
  settleS: number;
}

export interface PollerResult {
  good: number;
  maxPollMs: number;
  skipped: number;
  failed: number;
  /** User + system CPU of this process over the window, µs. */
  cpuUs: number;
  windowMs: number;
}

/** SDM630s, `unitsPerEndpoint` to a converter, polled every second. */
function deviceConfigs(a: PollerArgs) {
  return Array.from({ length: a.devices }, (_, i) =>
    modbusDevice.parse({
      id: `em-${i}`,
      kind: 'electricity_meter',
      protocol: 'modbus',
      profile: 'eastron-sdm630',
      place: { building: 'b1' },
      poll_interval_s: 1,
      connection: {
        host: '127.0.0.1',
        port: a.ports[Math.floor(i / a.unitsPerEndpoint)],
        unit_id: (i % a.unitsPerEndpoint) + 1,
        timeout_ms: a.timeoutMs,
      },
    }),
  );
}

async function poll(a: PollerArgs): Promise<PollerResult> {
  const profiles = loadRegisterProfiles();
  const metrics = new Metrics();
  const adapter = new ModbusAdapter({
    devices: deviceConfigs(a),
    profiles,
    clock: systemClock,
    metrics,
    logger: pino({ level: 'silent' }),
    tcpMaxInFlight: a.inFlight,
  });
  // Every device's grid starts at start() plus its place on its line (adapter.ts lineSlot).
  // The window is `seconds` long, so it holds exactly `seconds` slots of each device, and
  // readings are counted by the slot of their poll (stamped when it started, a timer's
  // lateness after the slot), not by when they came.
  const origin = Date.now();
  const from = origin + (a.settleS + 0.5) * 1000;
  const to = from + a.seconds * 1000;
  const phase = (id: string) => lineSlot(Number(id.slice(3)) % a.unitsPerEndpoint, a.unitsPerEndpoint, 1000);
  let good = 0;
  let maxPollMs = 0;
  adapter.start((r) => {
    const first = origin + phase(r.deviceId);
    const slot = first + Math.round((r.ts - first) / 1000) * 1000;
    if (slot < from || slot >= to) return;
    if (r.quality === 'good') good++;
    maxPollMs = Math.max(maxPollMs, Date.now() - slot);
  });
  const counters = async () => ({
    skipped: (await metrics.modbusPollsSkipped.get()).values[0]?.value ?? 0,
    failed: (await metrics.modbusRequests.get()).values
      .filter((v) => v.labels.result !== 'ok')
      .reduce((n, v) => n + v.value, 0),
    cpu: process.cpuUsage(),
    at: performance.now(),
  });
  const until = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));
  await until(from);
  const stopProfile = await profileWindow(`modbus-${a.devices}`);
  const before = await counters();
  console.log(JSON.stringify({ window: 'open' }));
  await until(to);
  const after = await counters();
  console.log(JSON.stringify({ window: 'close' }));
  await stopProfile();
  // Polls stamped inside the window may still be waiting for their answers.
  await until(to + a.timeoutMs + 500);
  await adapter.stop();
  return {
    good,
    maxPollMs,
    skipped: after.skipped - before.skipped,
    failed: after.failed - before.failed,
    cpuUs: after.cpu.user - before.cpu.user + after.cpu.system - before.cpu.system,
    windowMs: after.at - before.at,
  };
}

if (process.argv[1]?.endsWith('modbus-poller.js')) {
  console.log(JSON.stringify(await poll(JSON.parse(process.argv[2]!) as PollerArgs)));
}
