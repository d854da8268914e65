import { HOUR } from '../history.js';
import { bool, num } from '../site-facts.js';
import { evidence, type Detector } from './detector.js';

// DOMAIN.md §2 Water. Continuous flow, night flow and abnormal inflow read the hourly and
// run-length history the engine folds from readings (rules/history.ts).

export const waterLeak: Detector = {
  kind: 'water_leak',
  applies: (d) => d.kind === 'leak_sensor' || d.kind === 'water_meter',
  durations: (t) => ({ forS: t.leak_wet_s, clearS: t.leak_dry_s }),
  check: ({ device, live }) => {
    // A leak sensor reads wet; some water meters raise their own leak flag.
    const wet = device.kind === 'leak_sensor' ? bool(live, 'wet') : bool(live, 'leak');
    if (!wet) return undefined;
    return device.kind === 'leak_sensor'
      ? evidence('漏水传感器检测到水', 'leak sensor reads wet', live, device.id, ['wet'])
      : evidence('水表报漏水标志', 'water meter raised its leak flag', live, device.id, ['leak']);
  },
};

export const vacantUnitFlow: Detector = {
  kind: 'vacant_unit_flow',
  applies: (d) => d.kind === 'water_meter' && d.vacant,
  durations: () => ({ forS: 0, clearS: 15 * 60 }),
  check: ({ device, live, t }) => {
    // Flow above the meter's resolution: a running meter in an empty flat means a tap or a
    // pipe is open with nobody home (S000 §5: close that unit's valve first).
    const flow = num(live, 'flow_m3h');
    if (flow === undefined || flow <= t.vacant_flow_m3h) return undefined;
    return evidence(`空置房水表有流量 ${flow} m³/h`, `meter in a vacant unit reads ${flow} m³/h`, live, device.id, [
      'flow_m3h',
      'total_m3',
    ]);
  },
};

export const pipeBurst: Detector = {
  kind: 'pipe_burst',
  applies: (d) => d.kind === 'water_meter',
  durations: (t) => ({ forS: t.burst_s, clearS: 60 }),
  check: ({ device, live, t }) => {
    const flow = num(live, 'flow_m3h');
    if (bool(live, 'burst'))
      return evidence('水表报爆管标志', 'water meter raised its burst flag', live, device.id, ['burst', 'flow_m3h']);
    if (flow === undefined || flow <= t.burst_flow_m3h) return undefined;
    return evidence(
      `流量 ${flow} m³/h 超过爆管阈值 ${t.burst_flow_m3h} m³/h`,
      `flow ${flow} m³/h above the burst threshold ${t.burst_flow_m3h} m³/h`,
      live,
      device.id,
      ['flow_m3h'],
    );
  },
};

export const sumpPumpFailure: Detector = {
  kind: 'sump_pump_failure',
  applies: (d) => d.kind === 'level_sensor',
  durations: (t) => ({ forS: t.sump_pump_s, clearS: 60 }),
  check: ({ device, live, liveOf, t }) => {
    const level = num(live, 'level_pct');
    const high = bool(live, 'high_float') === true || (level !== undefined && level >= t.sump_high_pct);
    if (!high) return undefined;
    const pump = device.drainPump ? liveOf(device.drainPump) : undefined;
    const running = bool(pump, 'running');
    if (running) return undefined;
    const e = evidence(
      `集水井高液位${level !== undefined ? ` ${level}%` : ''}，排水泵${device.drainPump ? `（${device.drainPump}）` : ''}${running === false ? '未运行' : '状态未知'}`,
      `sump pit high${level !== undefined ? ` (${level} %)` : ''} and its drain pump${device.drainPump ? ` ${device.drainPump}` : ''} ${running === false ? 'is not running' : 'state unknown'}`,
      live,
      device.id,
      ['high_float', 'level_pct'],
    );
    if (device.drainPump && pump)
      e.readings.push(...evidence('', '', pump, device.drainPump, ['running', 'fault']).readings);
    return e;
  },
};

export const continuousFlow: Detector = {
  kind: 'continuous_flow',
  applies: (d) => d.kind === 'water_meter',
  // Kamstrup MULTICAL 21 LEAK logic: raised when no hour of the last 24 had zero flow;
  // cleared after an hour of zero flow.
  durations: () => ({ forS: 0, clearS: 3600 }),
  check: ({ device, live, hourly, now, t }) => {
    const h = hourly(device.id, 'flow_m3h');
    if (!h) return undefined;
    const hours = t.continuous_flow_h;
    const current = Math.floor(now / HOUR) * HOUR;
    const window = h.between(current - (hours - 1) * HOUR, current + HOUR);
    if (window.length < hours || window.some((x) => x.min <= 0)) return undefined;
    const least = Math.min(...window.map((x) => x.min));
    return evidence(
      `连续 ${hours} 小时每小时都有用水（最小流量 ${least} m³/h）：疑似漏水`,
      `water has flowed in every hour of the last ${hours} h (lowest ${least} m³/h): suspected leak`,
      live,
      device.id,
      ['flow_m3h', 'total_m3'],
    );
  },
};

export const nightFlowHigh: Detector = {
  kind: 'night_flow_high',
  applies: (d) => d.kind === 'water_meter',
  durations: () => ({ forS: 0, clearS: 0 }),
  check: ({ device, live, hourly, now, t, local }) => {
    const h = hourly(device.id, 'flow_m3h');
    if (!h) return undefined;
    // Minimum flow of each night window, by local date; only nights that are over count.
    const nights = new Map<string, number>();
    const today = local(now);
    for (const x of h.hours) {
      const { date, hour } = local(x.hour);
      if (hour < t.night_start_h || hour >= t.night_end_h) continue;
      if (date === today.date && today.hour < t.night_end_h) continue;
      nights.set(date, Math.min(nights.get(date) ?? Number.POSITIVE_INFINITY, x.min));
    }
    const ordered = [...nights.entries()].sort(([a], [b]) => a.localeCompare(b));
    const last = ordered.at(-1);
    const before = ordered.slice(-8, -1).map(([, v]) => v);
    if (!last || before.length < 3) return undefined;
    const baseline = before.sort((a, b) => a - b)[Math.floor(before.length / 2)]!;
    const limit = Math.max(baseline * t.night_flow_factor, baseline + t.night_flow_margin_m3h);
    if (last[1] <= limit) return undefined;
    const window = `${t.night_start_h}:00–${t.night_end_h}:00`;
    return evidence(
      `${last[0]} 夜间 ${window} 最小流量 ${last[1]} m³/h，高于基线 ${baseline} m³/h`,
      `night of ${last[0]}: minimum flow ${last[1]} m³/h between ${window}, above its baseline ${baseline} m³/h`,
      live,
      device.id,
      ['flow_m3h'],
    );
  },
};

export const abnormalInflow: Detector = {
  kind: 'abnormal_inflow',
  timeBased: true,
  applies: (d) => d.kind === 'level_sensor' && d.drainPump !== undefined,
  durations: () => ({ forS: 0, clearS: 60 }),
  check: ({ device, runs, now, liveOf, t }) => {
    const r = runs(device.drainPump!);
    const longest = r?.longest();
    if (!r || r.runningSince === undefined || longest === undefined || r.runs.length < 3) return undefined;
    const runningS = (now - r.runningSince) / 1000;
    // A margin over the record: ordinary runs beat it by seconds now and then.
    if (runningS <= longest * t.abnormal_inflow_factor) return undefined;
    const minutes = (s: number) => Math.round(s / 60);
    return evidence(
      `排水泵 ${device.drainPump} 已连续运行 ${minutes(runningS)} 分钟，超过以往最长 ${minutes(longest)} 分钟：进水异常`,
      `drain pump ${device.drainPump} has run ${minutes(runningS)} min without stopping, longer than ever before (${minutes(longest)} min): abnormal inflow`,
      liveOf(device.drainPump!),
      device.drainPump!,
      ['running', 'current_a'],
    );
  },
};

export const WATER_DETECTORS: Detector[] = [
  waterLeak,
  vacantUnitFlow,
  pipeBurst,
  sumpPumpFailure,
  continuousFlow,
  nightFlowHigh,
  abnormalInflow,
];
