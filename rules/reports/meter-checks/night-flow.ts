import { DAY_MS, inPeriod, median, round, type Finding, type MeterCheck, type MeterCheckInput } from './types.js';

/** 夜间流量偏高: the night's minimum flow well above this meter's usual nights (DOMAIN.md §2). */
export const nightFlowHigh: MeterCheck = {
  kinds: ['night_flow_high'],
  applies: (meter) => meter.kind === 'water_meter',
  check: (input) => {
    const { thresholds: t } = input;
    const findings: Finding[] = [];
    let flagged: HighNight[] = [];
    const flush = () => {
      const f = highNights(input, flagged);
      if (f) findings.push(f);
      flagged = [];
    };
    // The baseline is the median of the usual nights before (flagged ones do not raise it).
    const usual: number[] = [];
    for (const n of input.history.nights) {
      if (n.minFlow === undefined) continue;
      const recent = usual.slice(-28);
      if (recent.length < 3) {
        usual.push(n.minFlow);
        continue;
      }
      const baseline = median(recent);
      if (n.minFlow > baseline * t.night_flow_factor + t.night_flow_margin_m3h) {
        flagged.push({ date: n.date, use: n.minFlow, baseline });
      } else {
        flush();
        usual.push(n.minFlow);
      }
    }
    flush();
    return findings;
  },
};

interface HighNight {
  date: string;
  use: number;
  baseline: number;
}

function highNights({ period, settings, thresholds, byDate }: MeterCheckInput, flagged: HighNight[]) {
  if (flagged.length < settings.night_flow_nights || !flagged.some((n) => inPeriod(period, n.date))) return undefined;
  const first = flagged[0]!;
  const last = flagged.at(-1)!;
  const least = round(Math.min(...flagged.map((n) => n.use)));
  const usual = round(first.baseline);
  const hh = (h: number) => `${String(h).padStart(2, '0')}:00`;
  const w = `${hh(thresholds.night_start_h)}–${hh(thresholds.night_end_h)}`;
  const finding: Finding = {
    kind: 'night_flow_high',
    from: byDate.get(first.date)?.start ?? period.start,
    to: (byDate.get(last.date)?.start ?? period.start) + DAY_MS,
    evidence: {
      zh: `${first.date} 至 ${last.date} 连续 ${flagged.length} 晚 ${w} 最小流量 ${least} m³/h（平常夜间 ${usual} m³/h）`,
      en: `${flagged.length} nights in a row (${first.date} to ${last.date}) with a minimum flow of ${least} m³/h ${w} (usual night: ${usual} m³/h)`,
    },
    values: { nights: flagged.length, least_flow_m3h: least, baseline_m3h: usual },
    ...(flagged.length >= 7 ? { severity: 'major' } : {}),
  };
  return finding;
}
