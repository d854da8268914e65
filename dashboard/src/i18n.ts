import { serverNow } from './clock.js';

// zh-CN and English for everything on the page; the default follows the browser, the
// choice is kept. Times are shown in the site's time zone, not the browser's.

export type Lang = 'zh' | 'en';
export type Text = { zh: string; en: string };

// Exported for the catalogue test (every word in both languages), not for views: they use t().
export const WORDS = {
  title: { zh: '工程值班室', en: 'Duty room' },
  alarms: { zh: '告警', en: 'Alarms' },
  estate: { zh: '楼宇', en: 'Estate' },
  incidents: { zh: '事件', en: 'Incidents' },
  drills: { zh: '演练', en: 'Drills' },
  reports: { zh: '报表', en: 'Reports' },
  login: { zh: '登录', en: 'Log in' },
  logout: { zh: '退出', en: 'Log out' },
  username: { zh: '用户名', en: 'Username' },
  password: { zh: '密码', en: 'Password' },
  badLogin: { zh: '用户名或密码错误', en: 'Wrong username or password' },
  mute: { zh: '静音', en: 'Mute' },
  unmute: { zh: '取消静音', en: 'Unmute' },
  wall: { zh: '大屏', en: 'Wall' },
  drillRunning: {
    zh: '演练进行中 — 标有“演练”的告警属于演练，其余均为真实告警',
    en: 'DRILL IN PROGRESS — alarms marked DRILL are the drill; all others are real',
  },
  drillIncident: { zh: '演练事件 — 非真实事件', en: 'DRILL incident — not a real one' },
  drillEnded: { zh: '演练已结束，事件已自动关闭', en: 'The drill ended; this incident was closed' },
  bySensor: { zh: '传感器确认（非人工）', en: 'closed by the sensors, not a person' },
  recordsBy: { zh: '记录人', en: 'records by' },
  sensorsShow: {
    zh: '传感器显示已满足，需人工记录后完成',
    en: 'the sensors show it; a person must record and close it',
  },
  reopenedTask: { zh: '供电再次变化，需重新检查', en: 'supply changed again: check again' },
  noAlarms: { zh: '当前无告警', en: 'No active alarms' },
  severity: { zh: '级别', en: 'Severity' },
  alarm: { zh: '告警', en: 'Alarm' },
  where: { zh: '位置', en: 'Where' },
  evidence: { zh: '依据', en: 'Evidence' },
  since: { zh: '持续', en: 'Since' },
  owner: { zh: '负责人', en: 'Owner' },
  acknowledge: { zh: '确认', en: 'Acknowledge' },
  comment: { zh: '备注', en: 'Comment' },
  inhibitedBy: { zh: '被抑制（原因）', en: 'Inhibited by' },
  inhibited: { zh: '已抑制的告警', en: 'Inhibited alarms' },
  silenced: { zh: '已静默', en: 'Silenced' },
  cleared: { zh: '已恢复', en: 'Cleared' },
  online: { zh: '在线', en: 'Online' },
  offline: { zh: '离线', en: 'Offline' },
  power: { zh: '供电', en: 'Power' },
  powerOk: { zh: '正常', en: 'normal' },
  powerLost: { zh: '停电', en: 'lost' },
  lifts: { zh: '电梯', en: 'Lifts' },
  supplies: { zh: '进线与支路', en: 'Incomer and feeders' },
  plant: { zh: '水泵、集水井、锅炉', en: 'Pumps, sump pits, boilers' },
  escalated: { zh: '已升级', en: 'escalated' },
  handOver: { zh: '移交给', en: 'Hand over to' },
  reasonIfNotYours: { zh: '原因（接管他人事件时必填）', en: "Reason (needed for someone else's case)" },
  open: { zh: '处理中', en: 'Open' },
  closed: { zh: '已关闭', en: 'Closed' },
  noIncidents: { zh: '暂无事件', en: 'No incidents' },
  steps: { zh: '处置步骤', en: 'Steps' },
  tasks: { zh: '任务', en: 'Tasks' },
  timeline: { zh: '时间线', en: 'Timeline' },
  done: { zh: '完成', en: 'Done' },
  report: { zh: '打印报告', en: 'Printable report' },
  closeIncident: { zh: '关闭事件', en: 'Close incident' },
  // A device command from the incident (S000 §5: close a vacant flat's valve first), asked twice.
  closeValve: { zh: '关阀', en: 'Close valve' },
  closeValveAsk: {
    zh: '确认远程关闭该户进水阀？该户将停水，直到有人重新开阀。',
    en: "Close this flat's water valve remotely? Its water stays off until someone opens it again.",
  },
  closeValveYes: { zh: '确认关阀', en: 'Yes, close it' },
  commandCancel: { zh: '取消', en: 'Cancel' },
  commandSending: { zh: '指令下发中，等待设备回读…', en: 'Sending, waiting for the read-back…' },
  commandSent: { zh: '已下发，等待设备回读', en: 'sent, waiting for the read-back' },
  commandConfirmed: { zh: '设备回读确认', en: 'confirmed by the read-back' },
  commandRefused: { zh: '设备拒绝或未执行', en: 'refused by the device' },
  commandNoAnswer: { zh: '设备无应答，请到现场确认', en: 'no answer from the device: check on site' },
  due: { zh: '剩余', en: 'due in' },
  overdue: { zh: '已超时', en: 'overdue by' },
  history: { zh: '历史曲线', en: 'History' },
  range: { zh: '时间范围', en: 'Range' },
  noDrills: { zh: '此网关未接入模拟楼宇，无法演练', en: 'This gateway has no simulated estate to drill on' },
  start: { zh: '开始', en: 'Start' },
  stop: { zh: '停止', en: 'Stop' },
  // The drill scorecard: each critical alarm's acknowledgement, each step and task against its target.
  outcomeMet: { zh: '由人员完成（按时）', en: 'met by people' },
  outcomeSensor: { zh: '传感器关闭（非人员）', en: 'closed by a sensor' },
  outcomeLate: { zh: '超时', en: 'late' },
  outcomeMissed: { zh: '未完成', en: 'missed' },
  outcomeOpen: { zh: '进行中（未到时限）', en: 'open, not due yet' },
  outcomeOpenUntimed: { zh: '进行中（无时限）', en: 'open (no target)' },
  stepSkipped: { zh: '不适用（不计分）', en: 'does not apply (not scored)' },
  outcomeAckMet: { zh: '按时确认', en: 'acknowledged in time' },
  outcomeAckMissed: { zh: '未确认', en: 'not acknowledged' },
  scoreTitle: { zh: '演练评分', en: 'Drill score' },
  scoreAlarms: { zh: '预期告警按时触发', en: 'expected alarms in time' },
  scoreAcks: { zh: '紧急告警按时确认', en: 'critical alarms acknowledged in time' },
  scoreSteps: { zh: '处置步骤由人员按时完成', en: 'steps met by people on time' },
  scoreTasks: { zh: '逐台检查等任务由人员按时完成', en: 'per-lift checks and other tasks met by people on time' },
  scoreSensorApart: { zh: '传感器关闭（不计入人员成绩）', en: 'closed by a sensor (not counted as the team’s)' },
  injectedFaults: { zh: '注入的故障', en: 'Faults injected' },
  expectedAlarms: { zh: '预期告警', en: 'Expected alarms' },
  ackTimes: { zh: '紧急告警确认用时', en: 'Time to acknowledge each critical alarm' },
  stepsAgainstTarget: { zh: '处置步骤（对照时限）', en: 'Steps against their targets' },
  tasksAgainstTarget: {
    zh: '任务（逐台电梯检查等，时限自任务开启起算）',
    en: 'Tasks (the check of each lift…), against their deadline from when they opened',
  },
  colOutcome: { zh: '结果', en: 'Outcome' },
  colTime: { zh: '时间', en: 'Time' },
  colWhat: { zh: '内容', en: 'What' },
  colDelay: { zh: '比计划晚', en: 'Later than planned' },
  colKind: { zh: '告警类型', en: 'Alarm' },
  colDevice: { zh: '设备', en: 'Device' },
  colDueBy: { zh: '应触发于', en: 'Due by' },
  colRaisedAt: { zh: '触发时间', en: 'Raised at' },
  colAckAt: { zh: '确认时间', en: 'Acknowledged at' },
  colTook: { zh: '用时', en: 'Took' },
  colTarget: { zh: '时限', en: 'Target' },
  colBy: { zh: '完成人', en: 'By' },
  colStep: { zh: '步骤', en: 'Step' },
  colTask: { zh: '任务', en: 'Task' },
  colOpenedAt: { zh: '开启时间', en: 'Opened at' },
  reopenedTimes: { zh: '重新开启次数', en: 'times re-opened' },
  minutesShort: { zh: '分钟', en: 'min' },
  secondsShort: { zh: '秒', en: 's' },
  handover: { zh: '交接班报告', en: 'Shift handover' },
  meterReports: { zh: '表计异常报表', en: 'Meter-anomaly reports' },
  fromDate: { zh: '起始日期', en: 'From' },
  toDate: { zh: '截止日期', en: 'To' },
  building: { zh: '楼栋', en: 'Building' },
  allBuildings: { zh: '全部楼栋', en: 'All buildings' },
  makeReport: { zh: '生成报告', en: 'Make report' },
  making: { zh: '生成中…', en: 'Making the report…' },
  reportFailed: { zh: '报告未能生成', en: 'The report could not be made' },
  includesDrill: { zh: '含演练', en: 'includes a drill' },
  reportDrill: {
    zh: '本期含演练 — 读数含模拟事件',
    en: 'This period includes a drill: readings include simulated events',
  },
  period: { zh: '报告期', en: 'Period' },
  dataTo: { zh: '数据截至', en: 'data to' },
  generated: { zh: '生成于', en: 'made' },
  totalsPerBuilding: { zh: '各楼用量', en: 'Totals per building' },
  meterKind: { zh: '表类', en: 'Kind' },
  meterCount: { zh: '表数', en: 'Meters' },
  reporting: { zh: '有数据', en: 'Reporting' },
  use: { zh: '用量', en: 'Use' },
  anomalies: { zh: '异常', en: 'Anomalies' },
  noAnomalies: { zh: '未发现异常', en: 'No anomalies found' },
  waterMeter: { zh: '水表', en: 'Water' },
  electricityMeter: { zh: '电表', en: 'Electricity' },
  vacant: { zh: '空置', en: 'vacant' },
  useInPeriod: { zh: '期间用量', en: 'Use in period' },
  dailyUse: { zh: '每日用量', en: 'Daily use' },
  noData: { zh: '无数据', en: 'no data' },
  counterWraps: { zh: '满量程回零（非异常）', en: 'Counter wraps (not anomalies)' },
  download: { zh: '下载', en: 'Download' },
  csvAnomalies: { zh: '异常清单 CSV', en: 'Anomalies CSV' },
  csvTotals: { zh: '楼栋汇总 CSV', en: 'Totals CSV' },
  csvDaily: { zh: '每日用量 CSV', en: 'Daily use CSV' },
  storedReports: { zh: '定时报表', en: 'Scheduled reports' },
  daily: { zh: '日报', en: 'Daily' },
  monthly: { zh: '月报', en: 'Monthly' },
  show: { zh: '显示', en: 'Show' },
  noStoredReports: { zh: '暂无定时报表', en: 'No scheduled reports yet' },
  reportsUnavailable: {
    zh: '此网关不提供表计报表（数据库不支持 InfluxQL）',
    en: 'This gateway makes no meter reports (its database does not speak InfluxQL)',
  },
  sevCritical: { zh: '紧急', en: 'critical' },
  sevMajor: { zh: '重要', en: 'major' },
  sevMinor: { zh: '一般', en: 'minor' },
  sevWarning: { zh: '提示', en: 'warning' },
  openCases: { zh: '未结事件', en: 'Open cases' },
  linkLost: {
    zh: '与网关的连接已断开 — 画面可能不是最新，正在重连…',
    en: 'Connection to the gateway lost — this screen may be out of date; reconnecting…',
  },
  health: { zh: '系统状态', en: 'Health' },
  statusOk: { zh: '正常', en: 'OK' },
  statusDegraded: { zh: '部分故障', en: 'degraded' },
  statusDown: { zh: '故障', en: 'down' },
  statusUnknown: { zh: '未知', en: 'unknown' },
  healthAllOk: { zh: '监控系统各部件运行正常', en: 'Every part of the monitor is working' },
  healthSomeFail: {
    zh: '监控系统有部件故障 — 部分设备可能未被监控，见下方及告警页',
    en: 'Part of the monitor is failing: some of the estate may be unwatched (see below and the alarm board)',
  },
  healthUnreachable: {
    zh: '无法获取网关状态 — 以下为最后一次结果，可能已过时',
    en: 'The gateway does not answer: what follows is its last answer and may be out of date',
  },
  asOf: { zh: '更新于', en: 'as of' },
  systemAlarmsOnBoard: { zh: '系统告警在告警页显示', en: 'System alarms are on the alarm board' },
  gatewayItself: { zh: '监控网关', en: 'the gateway' },
  modbusLine: { zh: 'Modbus 线路', en: 'Modbus line' },
  clients: { zh: '已连接设备/客户端', en: 'Connected clients' },
  refused: { zh: '拒绝（登录、超限、格式）', en: 'Refused (logins, limits, packets)' },
  notKept: { zh: '未保存未确认（设备将重发）', en: 'Not kept, not acknowledged (devices resend)' },
  restarts: { zh: '自动重启次数', en: 'Automatic restarts' },
  messages: { zh: '已接收消息', en: 'Messages received' },
  devicesOnline: { zh: '在线设备', en: 'Devices online' },
  backedOff: { zh: '退避重试中', en: 'Backing off' },
  firingAlarms: { zh: '触发中的告警', en: 'Firing alarms' },
  openIncidents: { zh: '处理中的事件', en: 'Open incidents' },
  overdueSteps: { zh: '超时步骤', en: 'Overdue steps' },
  driver: { zh: '数据库类型', en: 'Database' },
  waiting: { zh: '待写入读数', en: 'Readings waiting' },
  failingFor: { zh: '写入失败已持续', en: 'Failing for' },
  depth: { zh: '暂存读数', en: 'Readings in the spool' },
  used: { zh: '已用空间', en: 'Space used' },
  oldestWaiting: { zh: '最早读数已等待', en: 'Oldest reading waiting' },
  lastExit: { zh: '上次退出', en: 'Last exit' },
  nextRun: { zh: '下次生成', en: 'Next report' },
  lastReport: { zh: '最近一份', en: 'Last report' },
  line: { zh: '线路', en: 'Line' },
  status: { zh: '状态', en: 'Status' },
  queued: { zh: '排队请求', en: 'Queued' },
  lastAnswer: { zh: '最近应答', en: 'Last answer' },
  technicalDetail: { zh: '技术详情（英文）', en: 'Technical detail' },
  handoverWindow: { zh: '交接时段', en: 'handover' },
  handoverToYou: { zh: '交班给您', en: 'Handed over to you by' },
  casesMove: { zh: '件事件将转给您', en: 'cases move to you' },
  confirmTakeOver: { zh: '确认接班', en: 'Confirm taking over' },
  printSheet: { zh: '打印交接单', en: 'Print the handover sheet' },
  incident: { zh: '事件', en: 'Incident' },
  drillWord: { zh: '演练', en: 'DRILL' },
  thisShift: { zh: '本班', en: 'This shift' },
  openedWord: { zh: '件发生', en: 'opened' },
  closedWord: { zh: '件关闭', en: 'closed' },
  handoverWaiting: {
    zh: '您的交班等待接班人确认（确认前您仍是负责人）：',
    en: 'Your handover waits for confirmation (you stay the owner until then):',
  },
  outsideWindow: { zh: '不在交接时段内', en: 'outside the handover window' },
  cancel: { zh: '撤销', en: 'Cancel' },
  handOverTo: { zh: '接班人', en: 'Incoming' },
  handoverNote: {
    zh: '交接事项（未完成的工作、需注意的情况）',
    en: 'Handover note (work not finished, things to watch)',
  },
  handOverShift: { zh: '交班', en: 'Hand over the shift' },
  handoverPending: { zh: '待确认', en: 'waiting for confirmation' },
  handoverConfirmed: { zh: '已确认', en: 'confirmed' },
  handoverCancelled: { zh: '已撤销', en: 'cancelled' },
  addEntry: { zh: '添加一条', en: 'Add an entry' },
  removeEntry: { zh: '删除最后一条', en: 'Remove the last' },
  notApplicable: { zh: '不适用', en: 'Does not apply' },
  now: { zh: '现在', en: 'Now' },
  // The estate picture (views/estate/): states, plant, lifts, the power single-line.
  estAlarm: { zh: '告警', en: 'Alarm' },
  estNopower: { zh: '失电', en: 'No supply' },
  estOffline: { zh: '离线/数据过期', en: 'Offline or stale' },
  estInhibited: { zh: '告警已抑制', en: 'Alarm inhibited' },
  estVacant: { zh: '空置', en: 'Vacant' },
  estNormal: { zh: '正常', en: 'Normal' },
  estStale: { zh: '无实时数据', en: 'no live value' },
  estLost: { zh: '失电', en: 'LOST' },
  estNoSupply: { zh: '失电', en: 'No supply' },
  estDevicesNoPower: { zh: '台设备失电', en: 'devices without power' },
  estIncomer: { zh: '进线', en: 'Incomer' },
  estDirect: { zh: '进线直供', en: 'Fed directly' },
  estUnitMeters: { zh: '户表', en: 'Unit meters' },
  estPowerLine: { zh: '供电系统图', en: 'Power single-line' },
  estLiftPits: { zh: '底坑', en: 'Pits' },
  estRoom_pump_room: { zh: '泵房', en: 'Pumps' },
  estRoom_sump_pit: { zh: '集水井', en: 'Sump' },
  estRoom_switch_room: { zh: '配电室', en: 'Switch' },
  estRoom_boiler_room: { zh: '锅炉房', en: 'Boilers' },
  estRoom_other: { zh: '机房', en: 'Plant' },
  estGlyph_water_meter: { zh: '水', en: 'W' },
  estGlyph_electricity_meter: { zh: '电', en: 'E' },
  estGlyph_leak_sensor: { zh: '浸', en: 'L' },
  estGlyph_pump: { zh: '泵', en: 'P' },
  estGlyph_boiler: { zh: '炉', en: 'B' },
  estGlyph_level_sensor: { zh: '位', en: 'S' },
  estGlyph_lift: { zh: '梯', en: 'Lift' },
  estKind_water_meter: { zh: '水表', en: 'Water meter' },
  estKind_electricity_meter: { zh: '电表', en: 'Electricity meter' },
  estKind_leak_sensor: { zh: '水浸传感器', en: 'Leak sensor' },
  estKind_pump: { zh: '水泵', en: 'Pump' },
  estKind_boiler: { zh: '锅炉', en: 'Boiler' },
  estKind_level_sensor: { zh: '液位计', en: 'Level sensor' },
  estKind_lift: { zh: '电梯', en: 'Lift' },
  estRole_sump: { zh: '排污泵', en: 'Sump pump' },
  estRole_secondary_water: { zh: '二次供水泵', en: 'Booster pump' },
  estRole_fire: { zh: '消防泵', en: 'Fire pump' },
  estRole_heating_circulation: { zh: '循环泵', en: 'Heating pump' },
  estRole_drainage: { zh: '排水泵', en: 'Drainage pump' },
  estRole_other: { zh: '水泵', en: 'Pump' },
  estRunning: { zh: '运行', en: 'running' },
  estStopped: { zh: '停止', en: 'stopped' },
  estFault: { zh: '故障', en: 'FAULT' },
  estLevel: { zh: '液位', en: 'level' },
  estHighFloat: { zh: '高液位', en: 'high float' },
  estUp: { zh: '上行', en: 'up' },
  estDown: { zh: '下行', en: 'down' },
  estDoorOpen: { zh: '开门', en: 'door open' },
  estDoorClosed: { zh: '关门', en: 'door closed' },
  estDoorMoving: { zh: '门动作中', en: 'door moving' },
  estOccupied: { zh: '轿厢有人', en: 'occupied' },
  estEmpty: { zh: '轿厢无人', en: 'empty' },
  estNotLevel: { zh: '未平层', en: 'not level' },
  estFloor: { zh: '层', en: 'floor' },
  estMode_inspection: { zh: '检修', en: 'Insp.' },
  estMode_maintenance: { zh: '维保', en: 'Maint.' },
  estMode_fire: { zh: '消防', en: 'Fire' },
  estMode_out_of_service: { zh: '停用', en: 'Out' },
  // The drills page (issue 18, part 4): what a scenario does before anyone starts it.
  scenarios: { zh: '演练场景', en: 'Scenarios' },
  drillWhatItDoes: { zh: '演练过程（自开始起）', en: 'What it does (from the start)' },
  drillDevices: { zh: '涉及设备', en: 'Devices' },
  drillDuration: { zh: '时长', en: 'Duration' },
  colAt: { zh: '开始后', en: 'At' },
  colDueFromStart: { zh: '最迟触发（自开始）', en: 'Due by (from the start)' },
  expectMuted: { zh: '被上级失电抑制', en: 'muted by the lost supply above it' },
  expectHeating: { zh: '仅供暖季', en: 'heating season only' },
  expectedPlaybooks: { zh: '预期启动的预案', en: 'Playbooks it expects' },
  drillDoesNotFit: { zh: '与本园区不符，不能开始', en: 'Does not fit this estate: cannot start' },
  startDrill: { zh: '开始演练…', en: 'Start the drill…' },
  drillConfirmAsk: { zh: '开始演练', en: 'Start the drill' },
  drillConfirmNote: {
    zh: '这是演练：演练中的告警都将标注“演练”（DRILL）。故障只注入模拟园区，不影响真实设备；其他告警仍是真实告警。',
    en: 'This is a drill: alarms will be marked DRILL. The faults go into the simulated estate only, never real equipment; any other alarm stays real.',
  },
  drillConfirmYes: { zh: '确认开始', en: 'Start' },
  stopDrill: { zh: '停止演练', en: 'Stop the drill' },
  pastDrills: { zh: '历史演练及报告', en: 'Past drills and their reports' },
  noPastDrills: { zh: '暂无已结束的演练', en: 'No finished drills yet' },
  showReport: { zh: '查看报告', en: 'Show the report' },
  reportShown: { zh: '报告已在上方显示', en: 'report shown above' },
  drillStatusRunning: { zh: '进行中', en: 'running' },
  drillStatusCompleted: { zh: '已完成', en: 'completed' },
  drillStatusStopped: { zh: '已停止', en: 'stopped' },
  drillStatusInterrupted: { zh: '中断（网关重启）', en: 'interrupted (gateway restarted)' },
  startedBy: { zh: '发起人', en: 'started by' },
  alarmInTime: { zh: '按时触发', en: 'in time' },
  alarmNotInTime: { zh: '未按时触发', en: 'not in time' },
  alarmWaiting: { zh: '等待触发', en: 'waiting' },
  // Accessibility (part 8): names for controls that show only a placeholder or an icon.
  ackCommentFor: { zh: '确认备注', en: 'Acknowledgement comment' },
  // The device page (issue 18, part 2): ranges, charts per quantity, commands with confirmation.
  devCurrent: { zh: '当前读数', en: 'Current values' },
  devReadAt: { zh: '读数时间', en: 'read at' },
  devYes: { zh: '是', en: 'yes' },
  devNo: { zh: '否', en: 'no' },
  devRange1h: { zh: '1 小时', en: '1 hour' },
  devRange6h: { zh: '6 小时', en: '6 hours' },
  devRange24h: { zh: '24 小时', en: '24 hours' },
  devRange7d: { zh: '7 天', en: '7 days' },
  devRange30d: { zh: '30 天', en: '30 days' },
  devRange90d: { zh: '90 天', en: '90 days' },
  devUsePer: { zh: '每{every}用量', en: 'use per {every}' },
  devAveragePer: { zh: '每{every}平均值', en: 'mean per {every}' },
  devEveryMin: { zh: '{n}分钟', en: '{n} min' },
  devEveryHour: { zh: '{n}小时', en: '{n} h' },
  devEveryDay: { zh: '{n}天', en: '{n} day' },
  devTimesIn: { zh: '时间按站点时区', en: 'times in the site time zone' },
  devNoHistory: { zh: '此时间范围内无读数', en: 'No readings in this range' },
  devHistoryFailed: { zh: '历史数据读取失败', en: 'The history could not be read' },
  devLoading: { zh: '读取中…', en: 'Loading…' },
  devCommands: { zh: '远程控制', en: 'Remote control' },
  devOpenValve: { zh: '开阀', en: 'Open valve' },
  devOpenValveAsk: {
    zh: '确认远程开启该户进水阀？阀门打开后即恢复供水。',
    en: "Open this flat's water valve remotely? Water flows again as soon as it opens.",
  },
  devOpenValveYes: { zh: '确认开阀', en: 'Yes, open it' },
  devSetTo: { zh: '设为', en: 'Set to' },
  devCommandAsk: { zh: '确认向设备下发此指令？', en: 'Send this command to the device?' },
  devCommandYes: { zh: '确认下发', en: 'Yes, send it' },
  devReadBack: { zh: '回读', en: 'read back' },
  devKindWaterMeter: { zh: '水表', en: 'Water meter' },
  devKindElectricityMeter: { zh: '电表', en: 'Electricity meter' },
  devKindLift: { zh: '电梯', en: 'Lift' },
  devKindPump: { zh: '水泵', en: 'Pump' },
  devKindBoiler: { zh: '锅炉', en: 'Boiler' },
  devKindLeakSensor: { zh: '水浸传感器', en: 'Leak sensor' },
  devKindLevelSensor: { zh: '液位传感器', en: 'Level sensor' },
  photo: { zh: '现场照片', en: 'Photo' },
  photoCaption: { zh: '说明（可选）', en: 'Caption (optional)' },
  addPhoto: { zh: '上传照片', en: 'Add the photo' },
  firingWord: { zh: '告警中', en: 'Firing' },
} satisfies Record<string, Text>;

export type Word = keyof typeof WORDS;

/** Severities in the reader's language (the board, reports). */
export const SEVERITY_WORD = {
  critical: 'sevCritical',
  major: 'sevMajor',
  minor: 'sevMinor',
  warning: 'sevWarning',
} as const satisfies Record<string, Word>;

/**
 * Titles of the meter-anomaly kinds, the same words as ANOMALY_KINDS in
 * rules/reports/types.ts (the page takes from the server its types and only the pure time
 * helpers at run time; the dashboard test checks the two agree for what it shows).
 */
export const ANOMALY_TITLES: Record<string, Text> = {
  stuck_meter: { zh: '表具停走', en: 'Stuck meter' },
  vacant_unit_flow: { zh: '空置房走水', en: 'Water used in a vacant unit' },
  vacant_unit_power: { zh: '空置房走电', en: 'Electricity used in a vacant unit' },
  consumption_spike: { zh: '用量突增', en: 'Consumption spike' },
  counter_rollback: { zh: '读数倒退（回拨/篡改）', en: 'Counter went back (rollback or tamper)' },
  data_gap: { zh: '数据缺失/离线', en: 'Missing readings (offline)' },
  continuous_flow: { zh: '疑似漏水（24小时持续用水）', en: 'Continuous flow for 24 h (suspected leak)' },
  night_flow_high: { zh: '夜间流量偏高', en: 'High night flow' },
};

let lang: Lang =
  (localStorage.getItem('lang') as Lang | null) ?? (navigator.language.toLowerCase().startsWith('zh') ? 'zh' : 'en');

export function getLang(): Lang {
  return lang;
}

export function setLang(l: Lang): void {
  lang = l;
  localStorage.setItem('lang', l);
  document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
}

export function t(w: Word): string {
  return WORDS[w][lang];
}

/** A bilingual text from the server, or a plain string. */
export function tx(x: Text | string | undefined): string {
  if (x === undefined) return '';
  return typeof x === 'string' ? x : x[lang];
}

let zone = 'Asia/Shanghai';
/** The site's time zone: every time shown or typed is its wall clock. */
export function siteZone(): string {
  return zone;
}

export function setZone(z: string): void {
  zone = z;
}

export function time(ms: number | string): string {
  const d = new Date(ms);
  return new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', {
    timeZone: zone,
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).format(d);
}

export function ago(ms: number, now = serverNow()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  const parts =
    s < 60
      ? `${s}s`
      : s < 3600
        ? `${Math.floor(s / 60)}m ${s % 60}s`
        : `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return parts;
}
