// Modbus poll capacity: SDM630 meters polled every second by the real poller, from
// simulated converters in another process (each converter a TCP endpoint with many unit
// ids, as a TCP-to-RS-485 gateway is), stepping the number of devices up until more than
// 1 % of the polls are missed (skipped, failed, or not done within the period).
//   node dist/bench/modbus.js [--quick]
import { spawn } from 'node:child_process';
import pino from 'pino';
import { ModbusAdapter } from '../gateway/adapters/modbus/adapter.js';
import { planReads } from '../gateway/adapters/modbus/plan.js';
import { systemClock } from '../gateway/clock.js';
import { modbusDevice } from '../gateway/config/schema.js';
import { Metrics } from '../gateway/metrics.js';
import { projectPath } from '../gateway/paths.js';
import { loadRegisterProfiles } from '../gateway/profiles/profile.js';

export interface PollStep {
  devices: number;
  expectedPolls: number;
  answeredPolls: number;
  missedPct: number;
  registersPerS: number;
}

const UNITS_PER_ENDPOINT = 50;

async function step(devices: number, seconds: number): Promise<PollStep> {
  const servers = Math.ceil(devices / UNITS_PER_ENDPOINT);
  const child = spawn(process.execPath, [projectPath('dist', 'bench', 'modbus-servers.js'), String(servers), String(UNITS_PER_ENDPOINT)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const ports = await new Promise<number[]>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve((JSON.parse(out.split('\n')[0]!) as { ports: number[] }).ports);
    });
    child.once('exit', (code) => reject(new Error(`modbus servers exited (${code})`)));
  });
  const profiles = loadRegisterProfiles();
  const configs = Array.from({ length: devices }, (_, i) =>
    modbusDevice.parse({ id: `em-${i}`, kind: 'electricity_meter', protocol: 'modbus', profile: 'eastron-sdm630', place: { building: 'b1' }, poll_interval_s: 1, connection: { host: '127.0.0.1', port: ports[Math.floor(i / UNITS_PER_ENDPOINT)], unit_id: (i % UNITS_PER_ENDPOINT) + 1, timeout_ms: 1000 } }),
  );
  // Several requests in flight per converter, as a Modbus TCP gateway with many slaves allows.
  const adapter = new ModbusAdapter({ devices: configs, profiles, clock: systemClock, metrics: new Metrics(), logger: pino({ level: 'silent' }), tcpMaxInFlight: 8 });
  let answered = 0;
  let counting = false;
  adapter.start(() => {
    if (counting) answered++;
  });
  await new Promise((r) => setTimeout(r, 3000)); // connect and settle onto the poll grid
  counting = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  counting = false;
  const elapsed = (performance.now() - t0) / 1000;
  await adapter.stop();
  child.stdin.end();
  await new Promise((r) => child.once('exit', r));
  const expected = Math.round(devices * elapsed);
  const registers = planReads(profiles.get('eastron-sdm630')!).reduce((n, r) => n + r.count, 0);
  return { devices, expectedPolls: expected, answeredPolls: answered, missedPct: Math.max(0, Math.round(((expected - answered) / expected) * 1000) / 10), registersPerS: Math.round((answered / elapsed) * registers) };
}

export async function benchModbus(quick: boolean): Promise<{ steps: PollStep[]; sustained: number; registersPerPoll: number }> {
  const steps: PollStep[] = [];
  let sustained = 0;
  for (const n of quick ? [100, 400] : [250, 500, 1000, 2000, 4000, 6000, 8000, 10000]) {
    const s = await step(n, quick ? 4 : 10);
    steps.push(s);
    if (s.missedPct > 1) break;
    sustained = n;
  }
  return { steps, sustained, registersPerPoll: planReads(loadRegisterProfiles().get('eastron-sdm630')!).reduce((n, r) => n + r.count, 0) };
}

if (process.argv[1]?.endsWith('modbus.js')) {
  console.log(JSON.stringify(await benchModbus(process.argv.includes('--quick')), null, 1));
}
