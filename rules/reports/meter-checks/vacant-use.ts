import { METER_COUNTER } from '../meter-model.js';
import { daysSpan, inPeriod, round, type MeterCheck } from './types.js';

/** 空置房走水/走电: any real use in a vacant unit (the seed rule S000 §5: close the valve before it floods). */
export const vacantUse: MeterCheck = {
  kinds: ['vacant_unit_flow', 'vacant_unit_power'],
  applies: (meter) => meter.vacant,
  check: ({ history, period, settings, uses, byDate }) => {
    const m = history.meter;
    const water = m.kind === 'water_meter';
    const limit = water ? settings.vacant_water_m3_day : settings.vacant_energy_kwh_day;
    const used = uses.filter((u) => inPeriod(period, u.date) && u.use !== null && u.use > limit);
    if (used.length === 0) return [];
    const unit = METER_COUNTER[m.kind].unit;
    const total = round(used.reduce((s, u) => s + u.use!, 0));
    const list = (sep: string) => used.map((u) => `${u.date.slice(5)}: ${round(u.use!)}`).join(sep);
    return [
      {
        kind: water ? 'vacant_unit_flow' : 'vacant_unit_power',
        ...daysSpan(byDate, used[0]!.date, used.at(-1)!.date),
        evidence: {
          zh: `空置房 ${m.unit ?? ''} 有 ${used.length} 天用量，共 ${total} ${unit}（${list('，')}）`,
          en: `vacant unit ${m.unit ?? ''} used ${total} ${unit} on ${used.length} day(s) (${list(', ')})`,
        },
        values: { days: used.length, total },
      },
    ];
  },
};
