// Simulated Modbus TCP converters for the poll-capacity bench, in their own process so the
// gateway's poller does not share its event loop with them.
//   node dist/bench/modbus-servers.js SERVERS UNITS_PER_SERVER
// Prints one JSON line with the ports, then serves until stdin closes.
import { loadRegisterProfiles } from '../gateway/profiles/profile.js';
import { startModbusServer } from '../simulators/modbus/server.js';

const [serversArg, unitsArg] = process.argv.slice(2);
const profile = loadRegisterProfiles().get('eastron-sdm630')!;
const values = {
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
const servers = await Promise.all(
  Array.from({ length: Number(serversArg) }, () =>
    startModbusServer({
      devices: Array.from({ length: Number(unitsArg) }, (_, u) => ({ unitId: u + 1, profile, values })),
    }),
  ),
);
console.log(JSON.stringify({ ports: servers.map((s) => s.port) }));
process.stdin.resume();
process.stdin.on('end', () => void Promise.all(servers.map((s) => s.close())).then(() => process.exit(0)));
