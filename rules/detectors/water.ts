import { bool, num } from '../site.js';
import { evidence, type Detector } from './types.js';

// DOMAIN.md §2 Water. Continuous flow, night flow and abnormal inflow need hours of history
// and are computed over stored data (see the meter-anomaly report); these act on live values.

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
    return evidence(`空置房水表有流量 ${flow} m³/h`, `meter in a vacant unit reads ${flow} m³/h`, live, device.id, ['flow_m3h', 'total_m3']);
  },
};

export const pipeBurst: Detector = {
  kind: 'pipe_burst',
  applies: (d) => d.kind === 'water_meter',
  durations: (t) => ({ forS: t.burst_s, clearS: 60 }),
  check: ({ device, live, t }) => {
    const flow = num(live, 'flow_m3h');
    if (bool(live, 'burst')) return evidence('水表报爆管标志', 'water meter raised its burst flag', live, device.id, ['burst', 'flow_m3h']);
    if (flow === undefined || flow <= t.burst_flow_m3h) return undefined;
    return evidence(`流量 ${flow} m³/h 超过爆管阈值 ${t.burst_flow_m3h} m³/h`, `flow ${flow} m³/h above the burst threshold ${t.burst_flow_m3h} m³/h`, live, device.id, ['flow_m3h']);
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
    if (device.drainPump && pump) e.readings.push(...evidence('', '', pump, device.drainPump, ['running', 'fault']).readings);
    return e;
  },
};

export const WATER_DETECTORS: Detector[] = [waterLeak, vacantUnitFlow, pipeBurst, sumpPumpFailure];
