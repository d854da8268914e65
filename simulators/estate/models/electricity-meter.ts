import { clamp, demandAt, jitter, model, round, wander } from './model.js';

// Electricity meters: 220 V phase-to-neutral (380 V between phases) with a little noise, and
// the load of whatever they measure:
// - a unit meter (one with a `unit`): the household's or shop's own use, following the
//   day/night curve; 0 in a vacant unit;
// - a switch-room meter (incomer, lift or pump circuit): the sum of everything fed from it
//   (lifts, pumps, boilers, sub-circuit meters, each with its own reading) plus what it
//   feeds that has no meter of its own (common lighting, unmetered flats for an incomer).
// So an incomer reads roughly the sum of its sub-circuits, and a lift circuit's power jumps
// when a car starts.
//
// Faults: power_cut (the meter keeps reporting: 0 V on every phase, no current, no power,
// frequency 0), phase_loss (those phases 0 V and no current; the load on them is lost),
// breaker_trip (voltage normal, no current, no power). The devices below a cut or tripped
// meter lose power: that is the estate's topology, not this model.

interface MeterState {
  /** Per-phase voltage deviation from nominal, as a fraction (wanders ±1.5 %). */
  dv: number[];
  /** How the load splits over the phases (three-phase meters are never perfectly balanced). */
  share: number[];
  /** The meter's own load, kW (what it feeds that has no meter of its own). */
  own: number;
  powerKw: number;
  importKwh: number;
  frequency: number;
  /** Household size / shop size factor. */
  scale: number;
}

const POWER_FACTOR = 0.95;

export const electricityMeter = model<MeterState>({
  batteryBacked: false,
  faults: ['power_cut', 'phase_loss', 'breaker_trip'],
  stepS: 5,

  init(info, rnd) {
    const raw = Array.from({ length: info.phases }, () => 1 + jitter(rnd, 0.15));
    const sum = raw.reduce((a, b) => a + b, 0);
    return {
      dv: Array.from({ length: info.phases }, () => jitter(rnd, 0.01)),
      share: raw.map((r) => r / sum),
      own: 0,
      powerKw: 0,
      importKwh: round(info.unit ? 500 + rnd() * 9_000 : 50_000 + rnd() * 400_000, 2),
      frequency: 50,
      scale: 0.6 + rnd() * 0.8,
    };
  },

  step(s, info, env) {
    const { dtS, rnd } = env;
    s.dv = s.dv.map((d) => clamp(wander(d, 0, 0.004, dtS, 300, rnd), -0.03, 0.03));
    s.frequency = round(clamp(wander(s.frequency, 50, 0.01, dtS, 60, rnd), 49.9, 50.1), 3);
    const demand = demandAt(env.local.hour);
    let ownMean: number;
    if (info.unit)
      ownMean = info.vacant ? 0 : s.scale * (0.12 + 2.2 * demand); // fridge and standby, up to cooking and heaters
    else if (info.circuit === 'incomer')
      ownMean = s.scale * (12 + 60 * demand); // common lighting and the flats without a meter of their own
    else ownMean = 0.15; // a distribution board's own controls and lighting
    s.own = ownMean === 0 ? 0 : Math.max(0.02, wander(s.own || ownMean, ownMean, ownMean * 0.1, dtS, 120, rnd));
    const total = s.own + env.view.childLoadKw(info.id);
    const live = env.powered && !env.faults.has('breaker_trip');
    const kept = s.share.reduce((sum, share, i) => sum + (env.lostPhases.includes(i + 1) ? 0 : share), 0);
    s.powerKw = live ? round(total * kept, 3) : 0;
    s.importKwh = round(s.importKwh + (s.powerKw * dtS) / 3600, 4);
  },

  fields(s, info, env) {
    const out: Record<string, number> = {};
    const cut = env.supplyCut;
    const live = env.powered && !env.faults.has('breaker_trip');
    for (let p = 1; p <= info.phases; p++) {
      const lost = cut || env.lostPhases.includes(p);
      const v = lost ? 0 : round(info.nominalVoltage * (1 + (s.dv[p - 1] ?? 0)), 1);
      out[`voltage_l${p}_v`] = v;
      const phaseKw =
        live && !lost ? s.powerKw * ((s.share[p - 1] ?? 0) / Math.max(1e-9, keptShare(s, env.lostPhases))) : 0;
      out[`current_l${p}_a`] = v > 0 ? round((phaseKw * 1000) / (v * POWER_FACTOR), 2) : 0;
    }
    return {
      ...out,
      power_kw: live ? round(s.powerKw, 3) : 0,
      energy_import_kwh: round(s.importKwh, 2),
      energy_export_kwh: 0,
      frequency_hz: cut ? 0 : s.frequency,
    };
  },

  loadKw: (s) => s.powerKw,
});

function keptShare(s: MeterState, lost: readonly number[]): number {
  return s.share.reduce((sum, share, i) => sum + (lost.includes(i + 1) ? 0 : share), 0);
}
