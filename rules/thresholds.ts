import { z } from 'zod';
import type { DeviceKind } from './model/fields.js';

// Every threshold of DOMAIN.md §2 with its default. A site overrides any of them in its
// config for the whole site, a device kind, a building or one device; the most specific
// wins: device, then building, then kind, then site.

export const thresholdsShape = z.strictObject({
  /** Leak sensor wet this long → water_leak; dry this long → cleared. */
  leak_wet_s: z.number().nonnegative(),
  leak_dry_s: z.number().nonnegative(),
  /** Vacant unit: flow above the meter's resolution (m³/h) → vacant_unit_flow. */
  vacant_flow_m3h: z.number().nonnegative(),
  /** Burst: flow above this (m³/h) for burst_s → pipe_burst. */
  burst_flow_m3h: z.number().positive(),
  burst_s: z.number().nonnegative(),
  /** Continuous flow: no zero-flow hour in this many hours → continuous_flow. */
  continuous_flow_h: z.number().positive(),
  /** Night flow: minimum flow in the night window above baseline × factor (+ margin) → night_flow_high. */
  night_start_h: z.number().int().min(0).max(23),
  night_end_h: z.number().int().min(0).max(23),
  night_flow_factor: z.number().min(1),
  night_flow_margin_m3h: z.number().nonnegative(),
  /** Sump pit: high float or level ≥ sump_high_pct with its pump not running for sump_pump_s → sump_pump_failure. */
  sump_high_pct: z.number().min(0).max(100),
  sump_pump_s: z.number().nonnegative(),
  /** Abnormal inflow: the drain pump has run this many times longer than its longest run before. */
  abnormal_inflow_factor: z.number().min(1),
  /** Phase loss below this share of nominal for phase_loss_s; restored above phase_restore_pct. */
  phase_loss_pct: z.number().min(0).max(100),
  phase_restore_pct: z.number().min(0).max(100),
  phase_loss_s: z.number().nonnegative(),
  /** Vacant unit: power above this (kW) for vacant_power_s → vacant_unit_power (a fridge left on idles at ~0.03 kW). */
  vacant_power_kw: z.number().nonnegative(),
  vacant_power_s: z.number().nonnegative(),
  /** Power restored: all phases above phase_restore_pct for this long. */
  power_restored_s: z.number().nonnegative(),
  /** Lift: trapped (not moving, occupied, door closed) this long → lift_entrapment. */
  lift_trapped_s: z.number().nonnegative(),
  lift_out_of_zone_s: z.number().nonnegative(),
  lift_overtravel_s: z.number().nonnegative(),
  /** Heating: supply below setpoint by more than heating_low_delta_c for heating_low_s. */
  heating_low_delta_c: z.number().positive(),
  heating_low_s: z.number().nonnegative(),
  boiler_overheat_c: z.number(),
  boiler_pressure_min_kpa: z.number(),
  boiler_pressure_max_kpa: z.number(),
  boiler_pressure_s: z.number().nonnegative(),
  /** Pump commanded but no run feedback this long → pump_failure. */
  pump_feedback_s: z.number().nonnegative(),
  /** No reading for this many intervals → device_offline. */
  offline_intervals: z.number().positive(),
});

export type Thresholds = z.infer<typeof thresholdsShape>;

export const DEFAULT_THRESHOLDS: Thresholds = {
  leak_wet_s: 5,
  leak_dry_s: 60,
  vacant_flow_m3h: 0.001,
  burst_flow_m3h: 10,
  burst_s: 120,
  continuous_flow_h: 24,
  night_start_h: 2,
  night_end_h: 5,
  night_flow_factor: 2,
  night_flow_margin_m3h: 0.01,
  sump_high_pct: 80,
  sump_pump_s: 30,
  abnormal_inflow_factor: 1.5,
  phase_loss_pct: 78,
  phase_restore_pct: 85,
  phase_loss_s: 60,
  vacant_power_kw: 0.05,
  vacant_power_s: 600,
  power_restored_s: 30,
  lift_trapped_s: 20,
  lift_out_of_zone_s: 45,
  lift_overtravel_s: 20,
  heating_low_delta_c: 10,
  heating_low_s: 15 * 60,
  boiler_overheat_c: 110,
  boiler_pressure_min_kpa: 100,
  boiler_pressure_max_kpa: 350,
  boiler_pressure_s: 60,
  pump_feedback_s: 10,
  offline_intervals: 3,
};

export const thresholdOverrides = thresholdsShape.partial();
export type ThresholdOverrides = z.infer<typeof thresholdOverrides>;

/** Overrides as a site file gives them: for the site, per building, per device kind, per device. */
export interface ThresholdConfig {
  site?: ThresholdOverrides;
  buildings?: Record<string, ThresholdOverrides>;
  kinds?: Partial<Record<DeviceKind, ThresholdOverrides>>;
  devices?: Record<string, ThresholdOverrides>;
}

/** The thresholds for one device: defaults, then site, kind, building, device (the most specific wins). */
export function resolveThresholds(
  cfg: ThresholdConfig | undefined,
  device: { id: string; kind: DeviceKind; building: string },
): Thresholds {
  return {
    ...DEFAULT_THRESHOLDS,
    ...cfg?.site,
    ...cfg?.kinds?.[device.kind],
    ...cfg?.buildings?.[device.building],
    ...cfg?.devices?.[device.id],
  };
}

/**
 * resolveThresholds for many devices, one shared (frozen) object per kind and building unless
 * a device has overrides of its own: at 10,000 devices a copy each was 2.5 MB of heap for
 * every holder.
 */
export function thresholdsResolver(
  cfg: ThresholdConfig | undefined,
): (device: { id: string; kind: DeviceKind; building: string }) => Readonly<Thresholds> {
  const shared = new Map<string, Readonly<Thresholds>>();
  return (device) => {
    if (cfg?.devices?.[device.id]) return Object.freeze(resolveThresholds(cfg, device));
    const key = `${device.kind}\u0000${device.building}`;
    let t = shared.get(key);
    if (!t) shared.set(key, (t = Object.freeze(resolveThresholds(cfg, device))));
    return t;
  };
}
