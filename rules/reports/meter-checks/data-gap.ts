import { round, stamp, type Finding, type MeterCheck } from './types.js';

/**
 * 数据缺失: missing readings, told apart from zero use (zero use still sends readings). A meter
 * the database has no day for at all is silent over the whole period (the gaps of a meter
 * with some days are the database's answer).
 */
export const dataGap: MeterCheck = {
  kinds: ['data_gap'],
  applies: () => true,
  check: ({ history, period, settings }) => {
    const gaps = [...history.gaps];
    if (!history.days.some((d) => d.count > 0)) gaps.push({ from: period.start, to: period.end });
    const findings: Finding[] = [];
    for (const g of gaps) {
      const from = Math.max(g.from, period.start);
      const to = Math.min(g.to, period.end);
      const hours = (to - from) / 3_600_000;
      if (hours < settings.gap_min_h) continue;
      const h = round(hours, 1);
      findings.push({
        kind: 'data_gap',
        from,
        to,
        evidence: {
          zh: `${stamp(period, from)} 至 ${stamp(period, to)} 无读数（${h} 小时；离线，不是零用量）`,
          en: `no readings from ${stamp(period, from)} to ${stamp(period, to)} (${h} h; offline, not zero use)`,
        },
        values: { hours: h },
        ...(hours >= 24 ? { severity: 'major' } : {}),
      });
    }
    return findings;
  },
};
