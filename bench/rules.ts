// Rule core throughput: readings/s through RuleEngine.observe + evaluate on one core, with
// the demo site's devices and every detector loaded. Evaluation runs once per batch of
// readings, as the gateway does (once per turn of the event loop).
//   node dist/bench/rules.js [--quick]
import { siteFacts } from '../gateway/alarms/facts.js';
import { loadSite, DEFAULT_CONFIG } from '../gateway/config/site.js';
import { RuleEngine } from '../rules/engine.js';
import type { Reading } from '../rules/model/reading.js';
import type { DeviceKind } from '../rules/model/fields.js';

/** Ordinary values per kind: nothing should fire, as in a normal hour of the estate. */
function sample(kind: DeviceKind, i: number): Reading['fields'] {
  switch (kind) {
    case 'water_meter':
      return { total_m3: 100 + i / 1000, flow_m3h: (i % 7) / 10 };
    case 'electricity_meter':
      return {
        voltage_l1_v: 220 + (i % 5),
        voltage_l2_v: 221,
        voltage_l3_v: 219,
        power_kw: 3.2,
        energy_import_kwh: 1000 + i / 100,
      };
    case 'lift':
      return {
        floor: (i % 18) + 1,
        direction: i % 3 === 0 ? 'stopped' : 'up',
        in_door_zone: i % 3 === 0,
        door: 'closed',
        occupied: i % 2 === 0,
        alarm_button: false,
        mode: 'normal',
      };
    case 'pump':
      return { running: true, run_command: true, fault: false, pressure_kpa: 300 };
    case 'boiler':
      return { supply_temp_c: 70, return_temp_c: 50, setpoint_c: 70, pressure_kpa: 200, burner_on: true, fault: false };
    case 'leak_sensor':
      return { wet: false, battery_pct: 90 };
    case 'level_sensor':
      return { level_pct: 30, high_float: false };
  }
}

export function benchRules(quick: boolean): { readingsPerS: number; devices: number; readings: number; batch: number } {
  const { config } = loadSite(DEFAULT_CONFIG, {});
  const facts = siteFacts(config);
  const devices = [...facts.devices.values()];
  const start = Date.parse('2026-11-22T00:00:00Z');
  const engine = new RuleEngine({ facts, start });
  const total = quick ? 200_000 : 2_000_000;
  const batch = 500;
  const readings: Reading[] = Array.from({ length: 10_000 }, (_, i) => {
    const d = devices[i % devices.length]!;
    return { deviceId: d.id, kind: d.kind, ts: start + i, fields: sample(d.kind, i), quality: 'good' };
  });
  let now = start;
  const t0 = performance.now();
  for (let n = 0; n < total; n += batch) {
    for (let k = 0; k < batch; k++) {
      const r = readings[(n + k) % readings.length]!;
      engine.observe(r, now);
    }
    now += 10; // 500 readings per 10 ms of estate time: 50,000 readings/s of simulated load
    engine.evaluate(now);
  }
  const seconds = (performance.now() - t0) / 1000;
  return { readingsPerS: Math.round(total / seconds), devices: devices.length, readings: total, batch };
}

if (process.argv[1]?.endsWith('rules.js')) {
  console.log(JSON.stringify(benchRules(process.argv.includes('--quick'))));
}
