import { z } from 'zod';

// The limits of the meter-anomaly report (DOMAIN.md §5), with their defaults. A site
// changes them under `reports.meters` in its site file. Night window, factor and margin
// are the live detectors' (thresholds night_*), so the report and the alarms agree.

export const meterReportSettingsShape = z.strictObject({
  /** Zero use this many days in a row with readings arriving, in an occupied unit → stuck_meter (停走). */
  stuck_days: z.number().int().min(1).default(7),
  /** A day's use above spike_factor × the median of the days before → consumption_spike (突增). */
  spike_factor: z.number().min(1).default(3),
  /** Days before each day that make its median. */
  spike_baseline_days: z.number().int().min(3).max(90).default(28),
  /** A median needs this many days with complete data and some use, or the day is not judged. */
  spike_min_baseline_days: z.number().int().min(1).default(14),
  /** And the day's use must exceed the median by at least this much (tiny medians would flag a cup of tea). */
  spike_min_excess_m3: z.number().nonnegative().default(0.2),
  spike_min_excess_kwh: z.number().nonnegative().default(2),
  /** A vacant unit using more than this a day → vacant_unit_flow / vacant_unit_power (空置房走水/走电). */
  vacant_water_m3_day: z.number().nonnegative().default(0.005),
  vacant_energy_kwh_day: z.number().nonnegative().default(0.1),
  /** Missing readings for at least this long → data_gap. */
  gap_min_h: z.number().min(1).default(1),
  /** Nights in a row above the night baseline → night_flow_high. */
  night_flow_nights: z.number().int().min(1).default(2),
  /** A counter that falls from at least this share of its span to below 1 − this share wrapped (rollover), it was not wound back. */
  rollover_share: z.number().min(0.5).max(1).default(0.9),
});

export type MeterReportSettings = z.infer<typeof meterReportSettingsShape>;

export const DEFAULT_METER_REPORT_SETTINGS: MeterReportSettings = meterReportSettingsShape.parse({});
