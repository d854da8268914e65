import { METER_COUNTER } from '../meter-model.js';
import { round, stamp, type MeterCheck } from './types.js';

/** 读数倒退: the counter went down and it was not a wrap at the register's end (rollback or tamper). */
export const counterRollback: MeterCheck = {
  kinds: ['counter_rollback'],
  applies: () => true,
  check: ({ history, period, rollbacks }) => {
    const unit = METER_COUNTER[history.meter.kind].unit;
    return rollbacks
      .filter((drop) => drop.ts >= period.start && drop.ts < period.end)
      .map((drop) => {
        const fell = round(drop.before - drop.after);
        const at = stamp(period, drop.ts);
        return {
          kind: 'counter_rollback',
          from: drop.ts,
          to: drop.ts,
          evidence: {
            zh: `${at} 读数由 ${drop.before} 降至 ${drop.after} ${unit}（倒退 ${fell}，非满量程回零）`,
            en: `${at} the counter fell from ${drop.before} to ${drop.after} ${unit} (back ${fell}; not a wrap at the register's end)`,
          },
          values: { before: drop.before, after: drop.after, fell },
        };
      });
  },
};
