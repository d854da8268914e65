// The canonical field catalogue (DOMAIN.md §1): one name per quantity, whatever the device
// model. This table is the single source for validation, the InfluxDB schema (fixed field
// types) and the UI's labels and units (served to the dashboard by GET /api/devices/:id/fields).
// Adding a field means adding a row here.

export const DEVICE_KINDS = [
  'water_meter',
  'electricity_meter',
  'lift',
  'pump',
  'boiler',
  'leak_sensor',
  'level_sensor',
] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

export type FieldType = 'float' | 'int' | 'bool' | 'enum';

export interface FieldDef {
  type: FieldType;
  /** Allowed range for numbers; values outside are rejected as `out_of_range`. */
  min?: number;
  max?: number;
  /** Allowed values for `enum` fields (stored as InfluxDB string fields). */
  values?: readonly string[];
  /** A monotonically increasing register (meter totals): anomaly rules treat it as a counter. */
  counter?: boolean;
  label: { zh: string; en: string };
  /**
   * The unit symbol of a number (m³, kWh, V …): SI symbols, written the same in Chinese and
   * English (GB 3100), so one string serves both. Absent for codes, floors, flags and states.
   */
  unit?: string;
  /** Words for the values of an `enum` field, in both languages (every value has one). */
  valueLabels?: Record<string, { zh: string; en: string }>;
}

const volts = (phase: string): FieldDef => ({
  type: 'float',
  min: 0,
  max: 1000,
  unit: 'V',
  label: { zh: `${phase}相电压`, en: `Voltage ${phase}` },
});
const amps = (phase: string): FieldDef => ({
  type: 'float',
  min: -10000,
  max: 10000,
  unit: 'A',
  label: { zh: `${phase}相电流`, en: `Current ${phase}` },
});
const flag = (zh: string, en: string): FieldDef => ({ type: 'bool', label: { zh, en } });

export const FIELDS: Record<DeviceKind, Record<string, FieldDef>> = {
  water_meter: {
    total_m3: {
      type: 'float',
      min: 0,
      max: 1e9,
      counter: true,
      unit: 'm³',
      label: { zh: '累计流量', en: 'Total volume' },
    },
    flow_m3h: { type: 'float', min: -1e5, max: 1e5, unit: 'm³/h', label: { zh: '瞬时流量', en: 'Flow rate' } },
    reverse_total_m3: {
      type: 'float',
      min: 0,
      max: 1e9,
      counter: true,
      unit: 'm³',
      label: { zh: '反向累计流量', en: 'Reverse total' },
    },
    leak: flag('漏水标志', 'Leak flag'),
    burst: flag('爆管标志', 'Burst flag'),
    reverse: flag('倒流标志', 'Reverse flow flag'),
    dry: flag('空管标志', 'Empty pipe flag'),
    valve_open: flag('阀门开启', 'Valve open'),
    error_code: { type: 'int', min: 0, max: 65535, label: { zh: '错误代码', en: 'Error code' } },
  },
  electricity_meter: {
    voltage_l1_v: volts('L1'),
    voltage_l2_v: volts('L2'),
    voltage_l3_v: volts('L3'),
    current_l1_a: amps('L1'),
    current_l2_a: amps('L2'),
    current_l3_a: amps('L3'),
    power_kw: { type: 'float', min: -1e5, max: 1e5, unit: 'kW', label: { zh: '总有功功率', en: 'Active power' } },
    energy_import_kwh: {
      type: 'float',
      min: 0,
      max: 1e10,
      counter: true,
      unit: 'kWh',
      label: { zh: '正向有功电能', en: 'Energy imported' },
    },
    energy_export_kwh: {
      type: 'float',
      min: 0,
      max: 1e10,
      counter: true,
      unit: 'kWh',
      label: { zh: '反向有功电能', en: 'Energy exported' },
    },
    frequency_hz: { type: 'float', min: 0, max: 100, unit: 'Hz', label: { zh: '频率', en: 'Frequency' } },
  },
  lift: {
    floor: { type: 'int', min: -20, max: 300, label: { zh: '所在楼层', en: 'Floor' } },
    direction: {
      type: 'enum',
      values: ['up', 'down', 'stopped'],
      label: { zh: '运行方向', en: 'Direction' },
      valueLabels: {
        up: { zh: '上行', en: 'up' },
        down: { zh: '下行', en: 'down' },
        stopped: { zh: '停止', en: 'stopped' },
      },
    },
    in_door_zone: flag('平层', 'In door zone'),
    door: {
      type: 'enum',
      values: ['open', 'closed', 'opening', 'closing'],
      label: { zh: '门状态', en: 'Door' },
      valueLabels: {
        open: { zh: '开门', en: 'open' },
        closed: { zh: '关门', en: 'closed' },
        opening: { zh: '开门中', en: 'opening' },
        closing: { zh: '关门中', en: 'closing' },
      },
    },
    occupied: flag('轿厢有人', 'Occupied'),
    alarm_button: flag('警铃按下', 'Alarm button'),
    mode: {
      type: 'enum',
      values: ['normal', 'inspection', 'maintenance', 'fire', 'out_of_service'],
      label: { zh: '运行模式', en: 'Mode' },
      valueLabels: {
        normal: { zh: '正常', en: 'normal' },
        inspection: { zh: '检修', en: 'inspection' },
        maintenance: { zh: '维保', en: 'maintenance' },
        fire: { zh: '消防', en: 'fire service' },
        out_of_service: { zh: '停用', en: 'out of service' },
      },
    },
    fault_code: { type: 'int', min: 0, max: 65535, label: { zh: '故障代码', en: 'Fault code' } },
  },
  pump: {
    running: flag('运行反馈', 'Running'),
    run_command: flag('运行指令', 'Run command'),
    fault: flag('故障', 'Fault'),
    warning: flag('警告', 'Warning'),
    alarm_code: { type: 'int', min: 0, max: 65535, label: { zh: '报警代码', en: 'Alarm code' } },
    pressure_kpa: { type: 'float', min: -200, max: 10000, unit: 'kPa', label: { zh: '压力', en: 'Pressure' } },
    flow_m3h: { type: 'float', min: -1e5, max: 1e5, unit: 'm³/h', label: { zh: '流量', en: 'Flow rate' } },
    current_a: { type: 'float', min: 0, max: 10000, unit: 'A', label: { zh: '电流', en: 'Current' } },
  },
  boiler: {
    supply_temp_c: {
      type: 'float',
      min: -50,
      max: 250,
      unit: '°C',
      label: { zh: '供水温度', en: 'Supply temperature' },
    },
    return_temp_c: {
      type: 'float',
      min: -50,
      max: 250,
      unit: '°C',
      label: { zh: '回水温度', en: 'Return temperature' },
    },
    setpoint_c: { type: 'float', min: 0, max: 200, unit: '°C', label: { zh: '设定温度', en: 'Setpoint' } },
    pressure_kpa: { type: 'float', min: -200, max: 10000, unit: 'kPa', label: { zh: '系统压力', en: 'Pressure' } },
    burner_on: flag('燃烧器运行', 'Burner on'),
    fault: flag('故障', 'Fault'),
    fault_code: { type: 'int', min: 0, max: 65535, label: { zh: '故障代码', en: 'Fault code' } },
  },
  leak_sensor: {
    wet: flag('浸水', 'Wet'),
    battery_pct: { type: 'float', min: 0, max: 100, unit: '%', label: { zh: '电量', en: 'Battery' } },
    battery_low: flag('电量低', 'Battery low'),
    tamper: flag('防拆', 'Tamper'),
  },
  level_sensor: {
    level_pct: { type: 'float', min: 0, max: 100, unit: '%', label: { zh: '液位', en: 'Level' } },
    high_float: flag('高液位浮球', 'High float'),
  },
};

const KIND_SET: ReadonlySet<string> = new Set(DEVICE_KINDS);

export function isDeviceKind(value: string): value is DeviceKind {
  return KIND_SET.has(value);
}
