// The alarm kinds of DOMAIN.md §2: one name per kind everywhere (config, API, InfluxDB,
// UI), with the default severity and the words a duty engineer reads. Detectors raise
// these; sites override severities and thresholds in their config, not here.

export const SEVERITIES = ['critical', 'major', 'minor', 'warning'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface AlarmKindDef {
  severity: Severity;
  category: 'water' | 'power' | 'lift' | 'heating' | 'device' | 'system';
  title: { zh: string; en: string };
  /** May a power cut on the device's feeder inhibit it (DOMAIN.md §2: never a trapped lift). */
  inhibitable: boolean;
}

const kind = (
  severity: Severity,
  category: AlarmKindDef['category'],
  zh: string,
  en: string,
  inhibitable = false,
): AlarmKindDef => ({
  severity,
  category,
  title: { zh, en },
  inhibitable,
});

export const ALARM_KINDS = {
  water_leak: kind('critical', 'water', '漏水', 'Water leak'),
  vacant_unit_flow: kind('major', 'water', '空置房走水', 'Water flowing in a vacant unit'),
  continuous_flow: kind('major', 'water', '疑似漏水（持续用水）', 'Continuous flow (suspected leak)'),
  night_flow_high: kind('minor', 'water', '夜间流量偏高', 'High night flow'),
  pipe_burst: kind('critical', 'water', '爆管', 'Pipe burst'),
  sump_pump_failure: kind('critical', 'water', '集水井排水泵故障', 'Sump pump failure'),
  abnormal_inflow: kind('major', 'water', '集水井进水异常', 'Abnormal sump inflow'),
  phase_loss: kind('major', 'power', '缺相/失压', 'Phase loss', true),
  power_cut_external: kind('critical', 'power', '市电停电', 'Power cut (external supply)'),
  circuit_fault_internal: kind('major', 'power', '内部线路故障', 'Internal circuit fault', true),
  vacant_unit_power: kind('major', 'power', '空置房走电', 'Electricity used in a vacant unit'),
  breaker_tripped: kind('minor', 'power', '开关跳闸', 'Breaker tripped', true),
  lift_entrapment: kind('critical', 'lift', '电梯困人', 'Passengers trapped in lift'),
  lift_stopped_out_of_zone: kind('major', 'lift', '门区外停梯', 'Lift stopped outside door zone'),
  lift_door_fault: kind('critical', 'lift', '电梯门故障（运行中开门）', 'Lift door open while moving'),
  lift_overtravel: kind('critical', 'lift', '冲顶/蹲底', 'Lift over-travel'),
  heating_low: kind('major', 'heating', '供水温度偏低', 'Heating supply too cold'),
  boiler_overheat: kind('critical', 'heating', '锅炉超温', 'Boiler overheating'),
  boiler_pressure: kind('critical', 'heating', '锅炉压力异常', 'Boiler pressure out of range'),
  boiler_fault: kind('critical', 'heating', '锅炉故障', 'Boiler fault'),
  pump_failure: kind('major', 'device', '水泵故障', 'Pump failure', true),
  device_offline: kind('minor', 'device', '设备离线', 'Device offline', true),
  // The monitor watching itself (rules/alarms/system.ts): what the duty room cannot see otherwise.
  storage_unreachable: kind(
    'major',
    'system',
    '数据库不可达（数据暂存本地）',
    'Database unreachable (readings kept locally)',
  ),
  spool_half_full: kind('major', 'system', '本地暂存已过半', 'Local spool half full'),
  spool_nearly_full: kind('critical', 'system', '本地暂存将满', 'Local spool nearly full'),
  spool_refusing: kind(
    'critical',
    'system',
    '本地暂存已满或故障，数据被拒收',
    'Spool full or failing: readings refused',
  ),
  broker_down: kind('critical', 'system', 'MQTT 服务停止', 'MQTT broker down'),
  broker_restarted: kind('minor', 'system', 'MQTT 服务曾重启', 'MQTT broker restarted'),
  modbus_line_down: kind('major', 'system', 'Modbus 线路中断', 'Modbus line down'),
  disk_low: kind('critical', 'system', '数据盘空间不足', 'Data disk nearly full'),
  clock_jump: kind('major', 'system', '系统时钟跳变', 'System clock jumped'),
} as const satisfies Record<string, AlarmKindDef>;

export type AlarmKind = keyof typeof ALARM_KINDS;
export const ALARM_KIND_NAMES = Object.keys(ALARM_KINDS) as AlarmKind[];

export function isAlarmKind(name: string): name is AlarmKind {
  return Object.hasOwn(ALARM_KINDS, name);
}

const RANK: Record<Severity, number> = { critical: 0, major: 1, minor: 2, warning: 3 };

/** For sorting: critical first. */
export function severityRank(s: Severity): number {
  return RANK[s];
}
