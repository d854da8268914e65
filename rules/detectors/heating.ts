import { bool, num } from '../site-facts.js';
import { evidence, type Detector } from './detector.js';

// DOMAIN.md §2 Heating (GB 50736-2012 §5.3.1 design temperatures) and pumps.

export const heatingLow: Detector = {
  kind: 'heating_low',
  applies: (d) => d.kind === 'boiler',
  durations: (t) => ({ forS: t.heating_low_s, clearS: 5 * 60 }),
  check: ({ device, live, t }) => {
    const supply = num(live, 'supply_temp_c');
    const setpoint = num(live, 'setpoint_c');
    if (supply === undefined || setpoint === undefined || setpoint - supply <= t.heating_low_delta_c) return undefined;
    return evidence(
      `供水温度 ${supply} °C，低于设定 ${setpoint} °C 超过 ${t.heating_low_delta_c} °C`,
      `supply ${supply} °C is more than ${t.heating_low_delta_c} °C below its setpoint ${setpoint} °C`,
      live,
      device.id,
      ['supply_temp_c', 'setpoint_c', 'burner_on'],
    );
  },
};

export const boilerOverheat: Detector = {
  kind: 'boiler_overheat',
  applies: (d) => d.kind === 'boiler',
  durations: () => ({ forS: 0, clearS: 60 }),
  check: ({ device, live, t }) => {
    const supply = num(live, 'supply_temp_c');
    if (supply === undefined || supply < t.boiler_overheat_c) return undefined;
    return evidence(
      `锅炉出水 ${supply} °C，达到超温限值 ${t.boiler_overheat_c} °C`,
      `boiler outlet ${supply} °C reached the overheat limit ${t.boiler_overheat_c} °C`,
      live,
      device.id,
      ['supply_temp_c'],
    );
  },
};

export const boilerPressure: Detector = {
  kind: 'boiler_pressure',
  applies: (d) => d.kind === 'boiler',
  durations: (t) => ({ forS: t.boiler_pressure_s, clearS: 60 }),
  check: ({ device, live, t }) => {
    const p = num(live, 'pressure_kpa');
    if (p === undefined || (p >= t.boiler_pressure_min_kpa && p <= t.boiler_pressure_max_kpa)) return undefined;
    const range = `${t.boiler_pressure_min_kpa}–${t.boiler_pressure_max_kpa} kPa`;
    return evidence(
      `系统压力 ${p} kPa，超出正常范围 ${range}`,
      `pressure ${p} kPa outside its normal range ${range}`,
      live,
      device.id,
      ['pressure_kpa'],
    );
  },
};

export const boilerFault: Detector = {
  kind: 'boiler_fault',
  applies: (d) => d.kind === 'boiler',
  durations: () => ({ forS: 0, clearS: 60 }),
  check: ({ device, live }) => {
    if (!bool(live, 'fault')) return undefined;
    const code = num(live, 'fault_code');
    return evidence(
      `锅炉报故障${code ? `（代码 ${code}）` : ''}`,
      `boiler reports a fault${code ? ` (code ${code})` : ''}`,
      live,
      device.id,
      ['fault', 'fault_code', 'burner_on'],
    );
  },
};

export const pumpFailure: Detector = {
  kind: 'pump_failure',
  applies: (d) => d.kind === 'pump',
  durations: (t) => ({ forS: t.pump_feedback_s, clearS: 30 }),
  check: ({ device, live }) => {
    if (bool(live, 'fault')) {
      const code = num(live, 'alarm_code');
      return evidence(
        `水泵报故障${code ? `（报警代码 ${code}）` : ''}`,
        `pump reports a fault${code ? ` (alarm code ${code})` : ''}`,
        live,
        device.id,
        ['fault', 'alarm_code', 'running', 'run_command'],
      );
    }
    if (bool(live, 'run_command') === true && bool(live, 'running') === false) {
      return evidence(
        '水泵已下发运行指令但无运行反馈',
        'pump commanded to run but gives no run feedback',
        live,
        device.id,
        ['run_command', 'running'],
      );
    }
    return undefined;
  },
};

export const HEATING_DETECTORS: Detector[] = [heatingLow, boilerOverheat, boilerPressure, boilerFault, pumpFailure];
