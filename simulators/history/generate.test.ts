import { describe, expect, it } from 'vitest';
import type { Reading } from '../../rules/model/reading.js';
import { LocalTime } from '../../rules/local-time.js';
import type { MeterFacts } from '../../rules/reports/meter-model.js';
import { emitMeter, initialFor, meterSeries } from './generate.js';
import { planAnomalies } from './plan.js';

const meters: MeterFacts[] = Array.from({ length: 60 }, (_, i) => ({
  id: `wm-${i}`,
  kind: 'water_meter' as const,
  building: 'b',
  unit: `u${i}`,
  vacant: i % 10 === 0,
}));
const start = Date.parse('2026-10-31T16:00:00Z');
const plan = (wraps: boolean) =>
  planAnomalies({
    meters,
    start,
    end: start + 30 * 86_400_000,
    intervalS: 900,
    timeZone: 'Asia/Shanghai',
    seed: 3,
    perKind: 1,
    wraps,
  });

describe('history generator', () => {
  it('plants one of each kind on distinct meters; no wraps when asked', () => {
    const truth = plan(true);
    expect(new Set(truth.planted.map((p) => p.meter)).size).toBe(truth.planted.length);
    expect(truth.planted.map((p) => p.kind)).toContain('counter_rollover');
    expect(plan(false).planted.map((p) => p.kind)).not.toContain('counter_rollover');
  });

  it('fits a meter to end at the counter a live meter shows, wind-back and stuck days included', () => {
    const truth = plan(false);
    const local = new LocalTime('Asia/Shanghai');
    for (const p of truth.planted.filter(
      (x) => x.kind === 'counter_rollback' || x.kind === 'stuck_meter' || x.kind === 'data_gap',
    )) {
      const s = meterSeries(
        meters.find((m) => m.id === p.meter)!,
        truth,
        local,
      );
      s.initial = initialFor(s, truth, 5000)!;
      const out: Reading[] = [];
      emitMeter(s, truth, out);
      const last = out.at(-1)!.fields.total_m3 as number;
      // The last reading is at most one quarter-hour's use below the target.
      expect(last, p.kind).toBeLessThanOrEqual(5000);
      expect(last, p.kind).toBeGreaterThan(4999);
    }
    const s = meterSeries(meters[1]!, truth, local);
    expect(initialFor(s, truth, 0)).toBeUndefined();
  });
});
