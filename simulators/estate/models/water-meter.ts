import { DEMAND_HOURS, clamp, demandAt, jitter, model, round } from './model.js';

// Water meters. A unit meter (one with a `unit`) measures a household or shop: water is
// drawn in short draws (a tap, a shower, a toilet cistern) whose frequency follows the
// day/night demand curve and the household's size, so the flow is 0 most of the time and
// every night has zero-flow hours. A vacant unit draws nothing.
//
// A building meter (no unit: the main in the pump room) sits on the inlet of the building's
// break tank (二次供水水箱), which the booster pumps draw from: its float valve opens when the
// tank is down to 75 % and refills it at 8 m³/h up to 95 %. So the main reads the whole
// building's use (unmetered flats plus every unit meter), but in refills: steady in the
// day, none for hours at night, as a real tank inlet does.
//
// The `flow` fault adds a constant flow (a burst pipe, a tap left running in a vacant unit).
// The meter's shut-off valve (`valve_open`, a coil the gateway may write on a Modbus meter)
// stops every flow through it while closed, a running tap included: that is what "close the
// vacant flat's valve" (S000 §5) does, and what stops the water in the vacant-unit-leak drill.
// The meter's own flags follow the firmware conventions of DOMAIN.md §2: `burst` while the
// flow is above the meter's burst limit, `leak` after 24 h without a single zero-flow moment.

interface WaterState {
  total: number;
  /** Flow of the household's current draw, m³/h (0 between draws). */
  draw: number;
  drawLeftS: number;
  flow: number;
  /** Household size factor (0.5 = one person living alone, 1.5 = a family of five). */
  occupancy: number;
  /** Seconds the flow has not been zero. */
  sinceZeroS: number;
  /** Building meters: how full the break tank is (0–1), and whether its inlet valve is open. */
  tank: number;
  refilling: boolean;
  /** The shut-off valve: open unless a command closed it. */
  valveOpen: boolean;
}

const TANK_M3 = 20;
const REFILL_M3H = 8;
const REFILL_BELOW = 0.75;
const REFILL_UPTO = 0.95;

/** Draws per day for an average household (about 0.35 m³/day in all). */
const DRAWS_PER_DAY = 14;
/** Burst limits, m³/h: a DN15–20 household meter, and a building main. */
const UNIT_BURST_M3H = 2.5;
const MAIN_BURST_M3H = 60;

export const waterMeter = model<WaterState>({
  batteryBacked: true,
  faults: ['flow'],
  stepS: 10,

  init(info, rnd) {
    const main = !info.unit;
    return {
      total: round(main ? 20_000 + rnd() * 60_000 : 100 + rnd() * 900, 3),
      draw: 0,
      drawLeftS: 0,
      flow: 0,
      occupancy: 0.5 + rnd(),
      sinceZeroS: 0,
      tank: REFILL_BELOW + rnd() * (REFILL_UPTO - REFILL_BELOW),
      refilling: false,
      valveOpen: true,
    };
  },

  step(s, info, env) {
    const { dtS, rnd } = env;
    let base: number;
    if (!info.unit) {
      const drawn = env.view.buildingWaterM3h(info.building);
      if (s.tank < REFILL_BELOW) s.refilling = true;
      else if (s.tank >= REFILL_UPTO) s.refilling = false;
      base = s.refilling && s.valveOpen ? REFILL_M3H * (1 + jitter(rnd, 0.03)) : 0;
      s.tank = clamp(s.tank + ((base - drawn) * dtS) / 3600 / TANK_M3, 0, 1);
    } else if (info.vacant) {
      base = 0;
    } else {
      if (s.drawLeftS <= 0) {
        s.draw = 0;
        const perS = (DRAWS_PER_DAY * s.occupancy * demandAt(env.local.hour)) / DEMAND_HOURS / 3600;
        if (rnd() < perS * dtS) {
          s.draw = round(0.2 + rnd() * 0.7, 3); // a tap ≈ 0.3 m³/h, a shower ≈ 0.7 m³/h
          s.drawLeftS = 30 + rnd() * 420;
        }
      }
      s.drawLeftS -= dtS;
      base = s.draw;
    }
    const extra = env.faults.get('flow')?.m3h ?? 0;
    s.flow = s.valveOpen ? round(Math.max(0, base + extra), 3) : 0;
    s.total = round(s.total + (s.flow * dtS) / 3600, 6);
    s.sinceZeroS = s.flow > 0 ? s.sinceZeroS + dtS : 0;
  },

  fields(s, info) {
    const burstAt = info.unit ? UNIT_BURST_M3H : MAIN_BURST_M3H;
    return {
      total_m3: round(s.total, 3),
      flow_m3h: s.flow,
      reverse_total_m3: 0,
      leak: s.sinceZeroS >= 86_400,
      burst: s.flow >= burstAt,
      reverse: false,
      dry: false,
      error_code: 0,
      valve_open: s.valveOpen,
    };
  },

  flowM3h: (s) => s.flow,

  command(s, info, field, value) {
    if (field !== 'valve_open' || typeof value !== 'boolean')
      throw new Error(
        `estate: ${info.id} takes no command ${field} = ${JSON.stringify(value)} (a water meter takes valve_open = true/false)`,
      );
    s.valveOpen = value;
    // A motorised valve shuts in seconds: the water stops now, not at the meter's next step.
    if (!value) {
      s.flow = 0;
      s.draw = 0;
      s.drawLeftS = 0;
      s.sinceZeroS = 0;
    }
  },
});

/**
 * Water drawn by a building's flats that have no meter of their own, m³/h: a tower of about
 * 130 flats at the demand curve. Deterministic (the building main adds its own noise).
 */
export function unmeteredBuildingM3h(hour: number, flats = 130): number {
  return clamp((flats * 0.35 * demandAt(hour)) / DEMAND_HOURS, 0, 1e4);
}
