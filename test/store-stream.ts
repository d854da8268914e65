import type { Point } from '../gateway/store/driver.js';

export const OUTAGE_T0 = 1_700_000_000_000_000;

/** The i-th point of an outage-test stream: distinct µs timestamps, values derived from i. */
export function streamPoint(device: string, i: number): Point {
  return {
    measurement: 'water_meter',
    tags: { site: 'test', building: 'b1', device },
    fields: { flow_m3h: i / 10, total_m3: i, error_code: i % 100, leak: i % 2 === 1 },
    tsUs: OUTAGE_T0 + i * 1000 + 1,
  };
}
