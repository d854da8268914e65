import { clamp, model, round } from './model.js';

// Water-leak sensors (水浸): Zigbee or NB-IoT pucks on the floor of pump, switch and boiler
// rooms, lift pits and sump pits. Dry, on a coin cell that lasts about two years, so the
// battery falls about a point a week; `battery_low` below 10 %. They run on their battery
// whatever happens to the building's power. `leak` makes one wet; it reports that at once,
// as the real ones do, not on its next heartbeat.

interface LeakState {
  battery: number;
}

const BATTERY_LIFE_S = 2 * 365 * 86_400;
const LOW_PCT = 10;

export const leakSensor = model<LeakState>({
  batteryBacked: true,
  faults: ['leak'],
  stepS: 60,
  eventFields: ['wet'],

  init(_info, rnd) {
    return { battery: 35 + rnd() * 65 };
  },

  step(s, _info, env) {
    s.battery = clamp(s.battery - (100 * env.dtS) / BATTERY_LIFE_S, 0, 100);
  },

  fields(s, _info, env) {
    const battery = round(s.battery, 0);
    return { wet: env.faults.has('leak'), battery_pct: battery, battery_low: battery < LOW_PCT, tamper: false };
  },
});
