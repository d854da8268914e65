import { HOUR } from '../history.js';
import type { Live } from '../site-facts.js';
import { num } from '../site-facts.js';
import type { Thresholds } from '../thresholds.js';
import { evidence, type CheckInput, type Detector } from './detector.js';

// DOMAIN.md §2 Power (DL/T 645 defaults): a phase is lost below 78 % of nominal and back
// above 85 %. The incomer losing every phase is the grid (市电停电); a sub-circuit losing
// every phase under a healthy incomer is an internal fault (S002 停电预案 step 2 asks the
// duty room to tell the two apart).

const PHASES = ['voltage_l1_v', 'voltage_l2_v', 'voltage_l3_v'] as const;

/** Phases this meter reports, each as lost or not, with hysteresis: once lost, back only above the restore level. */
function phaseStates(
  live: Live | undefined,
  nominal: number,
  t: Thresholds,
  wasLost: boolean,
): { field: string; volts: number; lost: boolean }[] {
  const limit = ((wasLost ? t.phase_restore_pct : t.phase_loss_pct) / 100) * nominal;
  const out: { field: string; volts: number; lost: boolean }[] = [];
  for (const field of PHASES) {
    const volts = num(live, field);
    if (volts !== undefined) out.push({ field, volts, lost: volts < limit });
  }
  return out;
}

function allLost(input: CheckInput): boolean {
  const phases = phaseStates(input.live, input.device.nominalVoltage ?? 220, input.t, input.wasActive);
  return phases.length > 0 && phases.every((p) => p.lost);
}

/** The time of this meter's latest phase reading. */
function readAt(live: Live | undefined): number | undefined {
  const ts = PHASES.map((f) => live?.fields.get(f)?.ts).filter((t): t is number => t !== undefined);
  return ts.length ? Math.max(...ts) : undefined;
}

/**
 * An upstream meter (incomer or feeder above) that has lost every phase, or had when this
 * meter last read its dead phases: then this is not our fault to name. The second half matters
 * when the power returns: the incomer's first good reading comes in before the sub-circuit's
 * next one, and the sub-circuit's last reading, taken during the cut, is no internal fault.
 */
function supplyAboveLost(input: CheckInput): string | undefined {
  const deadAt = readAt(input.live);
  let id = input.device.feeder;
  const seen = new Set<string>();
  while (id !== undefined && !seen.has(id)) {
    seen.add(id);
    const d = input.facts.devices.get(id);
    if (!d) return undefined;
    const phases = phaseStates(input.liveOf(id), d.nominalVoltage ?? 220, input.t, false);
    if (phases.length > 0 && phases.every((p) => p.lost)) return id;
    const lostUntil = input.lostUntil(id);
    if (lostUntil !== undefined && deadAt !== undefined && deadAt <= lostUntil) return id;
    id = d.feeder;
  }
  return undefined;
}

const voltsText = (live: Live | undefined) =>
  PHASES.map((f) => num(live, f))
    .filter((v): v is number => v !== undefined)
    .map((v) => `${v} V`)
    .join(' / ');

/** Kinds that run on mains power with no battery: they go silent together when a building loses its supply. */
const MAINS_ONLY: ReadonlySet<string> = new Set(['pump', 'boiler', 'electricity_meter']);

/** The incomer itself silent and most mains-powered devices of its building silent with it. */
function buildingDark(input: CheckInput): { silent: string[]; of: number } | undefined {
  const { device, facts, silent } = input;
  if (!silent(device.id)) return undefined;
  const mains = [...facts.devices.values()].filter(
    (d) => d.building === device.building && d.id !== device.id && MAINS_ONLY.has(d.kind),
  );
  const dark = mains.filter((d) => silent(d.id)).map((d) => d.id);
  return mains.length >= 2 && dark.length * 2 > mains.length ? { silent: dark, of: mains.length } : undefined;
}

export const powerCutExternal: Detector = {
  kind: 'power_cut_external',
  timeBased: true,
  applies: (d) => d.kind === 'electricity_meter' && d.circuit === 'incomer',
  durations: (t) => ({ forS: 0, clearS: t.power_restored_s }),
  check: (input) => {
    const dark = allLost(input) ? undefined : buildingDark(input);
    if (dark) {
      const { device, live } = input;
      return evidence(
        `${device.building} 栋进线电表与 ${dark.silent.length}/${dark.of} 台市电设备同时无数据：疑似市电停电`,
        `the incomer of building ${device.building} and ${dark.silent.length} of its ${dark.of} mains-powered devices went silent together: probable grid power cut`,
        live,
        device.id,
        [...PHASES],
      );
    }
    if (!allLost(input)) return undefined;
    const { device, live } = input;
    return evidence(
      `${device.building} 栋进线电表全部失压（${voltsText(live)}）：市电停电`,
      `incomer of building ${device.building} has lost every phase (${voltsText(live)}): grid power cut`,
      live,
      device.id,
      [...PHASES],
    );
  },
};

export const circuitFaultInternal: Detector = {
  kind: 'circuit_fault_internal',
  applies: (d) => d.kind === 'electricity_meter' && d.circuit === 'sub_circuit',
  durations: (t) => ({ forS: 0, clearS: t.power_restored_s }),
  check: (input) => {
    if (!allLost(input)) return undefined;
    // A dead incomer explains a dead sub-circuit: that is the grid, not an internal fault.
    if (supplyAboveLost(input)) return undefined;
    const { device, live } = input;
    return evidence(
      `支路电表失压（${voltsText(live)}），上级进线正常：内部线路故障`,
      `sub-circuit meter has no voltage (${voltsText(live)}) while its supply is normal: internal circuit fault`,
      live,
      device.id,
      [...PHASES],
    );
  },
};

export const phaseLoss: Detector = {
  kind: 'phase_loss',
  applies: (d) => d.kind === 'electricity_meter',
  durations: (t) => ({ forS: t.phase_loss_s, clearS: 0 }),
  check: (input) => {
    const { device, live, t, wasActive } = input;
    const phases = phaseStates(live, device.nominalVoltage ?? 220, t, wasActive);
    const lost = phases.filter((p) => p.lost);
    if (lost.length === 0) return undefined;
    // Every phase gone on an incomer or a sub-circuit is a power cut or a circuit fault, raised
    // by those rules; on a meter outside the feeder tree it is an all-phase loss (全失压) here.
    if (lost.length === phases.length && device.circuit !== undefined) return undefined;
    const names = lost.map((p) => p.field.slice(8, 10).toUpperCase()).join(', ');
    return evidence(
      `${names} 相失压（${lost.map((p) => `${p.volts} V`).join(' / ')}，低于额定 ${device.nominalVoltage ?? 220} V 的 ${t.phase_loss_pct}%）`,
      `phase ${names} lost (${lost.map((p) => `${p.volts} V`).join(' / ')}, below ${t.phase_loss_pct} % of ${device.nominalVoltage ?? 220} V)`,
      live,
      device.id,
      phases.map((p) => p.field),
    );
  },
};

export const breakerTripped: Detector = {
  kind: 'breaker_tripped',
  applies: (d) => d.kind === 'electricity_meter' && d.circuit === 'sub_circuit',
  // Ten minutes at zero: a circuit that normally draws can rest for a while.
  durations: () => ({ forS: 600, clearS: 60 }),
  check: (input) => {
    const { device, live, hourly, now, t } = input;
    const phases = phaseStates(live, device.nominalVoltage ?? 220, t, false);
    const power = num(live, 'power_kw');
    if (phases.length === 0 || phases.some((p) => p.lost) || power === undefined || power > 0.01) return undefined;
    // "Normally draws": power above 50 W in at least 20 of the last 24 full hours.
    const current = Math.floor(now / HOUR) * HOUR;
    const drawing = (hourly(device.id, 'power_kw')?.between(current - 24 * HOUR, current) ?? []).filter(
      (h) => h.max > 0.05,
    ).length;
    if (drawing < 20) return undefined;
    return evidence(
      `电压正常但功率为 0（过去 24 小时中 ${drawing} 小时有负荷）：疑似开关跳闸`,
      `voltage normal but no power drawn (it drew power in ${drawing} of the last 24 h): breaker probably tripped`,
      live,
      device.id,
      ['power_kw', ...PHASES],
    );
  },
};

/**
 * A meter in a vacant unit drawing power (S000 篇五: vacant units are checked; the monthly
 * report's vacant_unit_power, live): an appliance left on, a heater, or someone using the
 * flat. Held vacant_power_s so a meter's test pulse or a brief load is not an alarm.
 */
export const vacantUnitPower: Detector = {
  kind: 'vacant_unit_power',
  applies: (d) => d.kind === 'electricity_meter' && d.vacant,
  durations: (t) => ({ forS: t.vacant_power_s, clearS: 15 * 60 }),
  check: ({ device, live, t }) => {
    const kw = num(live, 'power_kw');
    if (kw === undefined || kw <= t.vacant_power_kw) return undefined;
    return evidence(
      `空置房电表功率 ${kw} kW（阈值 ${t.vacant_power_kw} kW）`,
      `meter in a vacant unit draws ${kw} kW (threshold ${t.vacant_power_kw} kW)`,
      live,
      device.id,
      ['power_kw'],
    );
  },
};

export const POWER_DETECTORS: Detector[] = [
  powerCutExternal,
  circuitFaultInternal,
  phaseLoss,
  vacantUnitPower,
  breakerTripped,
];
