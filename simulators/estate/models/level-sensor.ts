import { SEEPAGE_PCT_PER_MIN, SUMP_DRAIN_PCT_PER_MIN } from './pump.js';
import { clamp, jitter, model, round } from './model.js';

// Sump-pit level sensors (集水井): the pit fills with seepage and drain water and empties
// while its drain pump (`drain_pump`) runs, so level and pump together make the familiar
// saw-tooth: up slowly to 60 %, down fast to 20 %. The high-level float closes at 80 %.
// The `inflow` fault adds water (a burst main, a flooded ramp): more than the pump can
// drain, or any inflow with the pump failed, brings the float up.
// A sensor with no drain pump (or one the estate does not simulate) sits on a pit that
// drains by gravity: its level wanders low.

interface LevelState {
  level: number;
}

const HIGH_FLOAT_PCT = 80;

export const levelSensor = model<LevelState>({
  batteryBacked: true,
  faults: ['inflow'],
  stepS: 1,
  eventFields: ['high_float'],

  init(_info, rnd) {
    return { level: 20 + rnd() * 35 };
  },

  step(s, info, env) {
    const { dtS, rnd } = env;
    const inflow = env.faults.get('inflow')?.pctPerMin ?? 0;
    const running = info.drainPump ? env.view.pumpRunning(info.drainPump) : undefined;
    if (running !== undefined) {
      const drain = running ? SUMP_DRAIN_PCT_PER_MIN : 0;
      const seepage = SEEPAGE_PCT_PER_MIN * (1 + jitter(rnd, 0.3));
      s.level = clamp(s.level + ((seepage + inflow - drain) * dtS) / 60, 0, 100);
    } else {
      s.level = clamp(s.level + ((inflow - (s.level - 15) * 0.05) * dtS) / 60 + jitter(rnd, 0.02), 0, 100);
    }
  },

  fields(s) {
    return { level_pct: round(s.level, 1), high_float: s.level >= HIGH_FLOAT_PCT };
  },

  levelPct: (s) => s.level,
});
