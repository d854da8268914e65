import { DEFAULT_ROTA, rotaSchema } from '../../rules/incidents/shifts.js';
import { z } from 'zod';
import { GATEWAY_LEVELS } from '../../rules/events/topics.js';
import { meterReportSettingsShape } from '../../rules/reports/settings.js';
import { heatingSettingsShape } from '../../rules/reports/heating-status.js';
import { DEVICE_KINDS } from '../../rules/model/fields.js';
import { DUTY_ROLES, NOT_A_PERSON, playbookOverrideSchema } from '../../rules/incidents/playbook.js';
import { thresholdOverrides } from '../../rules/thresholds.js';
import { PUMP_ROLES, ROOM_TYPES } from '../../rules/site-facts.js';

// The site file (YAML) in snake_case, as a duty engineer writes it. Every object is strict:
// a misspelt key is an error with its line, never silently ignored.

const id = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'use letters, digits, "-", "_" or "." (max 64, no spaces)');

/** Text a duty engineer reads: one string, or both languages. */
export const text = z.union([z.string().min(1), z.strictObject({ zh: z.string().min(1), en: z.string().min(1) })]);
export type Text = z.infer<typeof text>;

const timezone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'not an IANA time zone (e.g. Asia/Shanghai)');

const floor = z.strictObject({ id: id, level: z.number().int(), name: text.optional() });
/** Either an explicit list, or a range of levels: -2..18 gives floors B2, B1, 1 … 18. */
const floors = z.union([
  z.array(floor).min(1),
  z.strictObject({ lowest: z.number().int(), highest: z.number().int() }).refine((r) => r.lowest <= r.highest, {
    message: 'lowest must not be above highest',
  }),
]);

const unit = z.strictObject({
  id,
  floor: id,
  vacant: z.boolean().default(false),
  name: text.optional(),
});
const room = z.strictObject({ id, floor: id, type: z.enum(ROOM_TYPES), name: text.optional() });

const building = z.strictObject({
  id,
  name: text,
  floors,
  units: z.array(unit).default([]),
  rooms: z.array(room).default([]),
  /**
   * A building with shops (商业网点): their local trading hours. A power cut in them brings the
   * evening-trading steps (S001 篇3 停电预案: emergency lighting, evacuate customers, fire watch).
   */
  trading_hours: z
    .strictObject({
      from: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a local time HH:MM'),
      to: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a local time HH:MM'),
    })
    .optional(),
});

const place = z.strictObject({
  building: id,
  floor: id.optional(),
  unit: id.optional(),
  room: id.optional(),
});

/** A bcrypt-like self-describing hash made by `dutyroom hash-password`. */
export const passwordHash = z
  .string()
  .regex(
    /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/,
    'not a password hash: make one with `dutyroom hash-password`',
  );

const mqttConnection = z.strictObject({
  /** Extra topic the device (or its bridge) publishes to, e.g. zigbee2mqtt/<friendly name>. */
  topic: z.string().min(1).optional(),
  /** Broker login of the device itself; defaults to the device id. */
  username: z.string().min(1).optional(),
  password_hash: passwordHash.optional(),
});

const modbusConnection = z.strictObject({
  transport: z.enum(['tcp', 'rtu']).default('tcp'),
  host: z.string().min(1).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  serial_port: z.string().min(1).optional(),
  baud_rate: z.number().int().positive().optional(),
  unit_id: z.number().int().min(0).max(247).default(1),
  timeout_ms: z.number().int().positive().default(1000),
});

/** A device id that is not one of the gateway's own topic levels (dutyroom/<site>/alarms/…: rules/events/topics.ts). */
const deviceId = id.refine((d) => !(GATEWAY_LEVELS as readonly string[]).includes(d), {
  message: `reserved: ${GATEWAY_LEVELS.join(', ')} are the gateway's own topics on the bus (dutyroom/<site>/<name>)`,
});

const deviceBase = {
  id: deviceId,
  kind: z.enum(DEVICE_KINDS),
  name: text.optional(),
  place,
  /** The electricity meter that feeds this device (lifts, pumps, sub-circuit meters). */
  feeder: id.optional(),
  /** For electricity meters: the building's incomer, or a circuit under `feeder`. */
  circuit: z.enum(['incomer', 'sub_circuit']).optional(),
  /** Pumps: what the pump serves; sump and secondary-water pumps are critical. */
  role: z.enum(PUMP_ROLES).optional(),
  /** Sump-pit level sensors: the pump that drains the pit. */
  drain_pump: id.optional(),
  /** Nominal phase voltage, electricity meters (China: 220 V). */
  nominal_voltage_v: z.number().positive().optional(),
  /** Meters: the value at which the counter wraps to 0 (e.g. 99999.999 m³ → 100000), when the profile does not tell. */
  counter_span: z.number().positive().optional(),
};

const mqttDevice = z.strictObject({
  ...deviceBase,
  protocol: z.literal('mqtt'),
  /** Payload profile, a file in gateway/profiles/payload/. */
  profile: z.string().min(1).default('canonical'),
  connection: mqttConnection.prefault({}),
  publish_interval_s: z.number().positive().default(60),
});

export const modbusDevice = z.strictObject({
  ...deviceBase,
  protocol: z.literal('modbus'),
  /** Register profile, a file in gateway/profiles/. */
  profile: z.string().min(1),
  connection: modbusConnection,
  poll_interval_s: z.number().positive().default(10),
  /**
   * A device whose loss matters at once is asked again within three poll intervals however long
   * it was silent, so its return is seen within seconds. Default: incomers, lifts, sump level
   * sensors and sump pumps (see watchedClosely in the Modbus adapter); true or false overrides.
   */
  watch_closely: z.boolean().optional(),
});

export const device = z.discriminatedUnion('protocol', [mqttDevice, modbusDevice]);

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Sensors and the gateway record under these names; a person never may (incident records, I7). */
const personName = id.refine((n) => !(NOT_A_PERSON as readonly string[]).includes(n), {
  message: `reserved: ${NOT_A_PERSON.join(' and ')} are what sensors and the gateway record under, not people`,
});

export const user = z.strictObject({
  username: personName,
  name: text.optional(),
  role: z.enum(ROLES),
  /** What the person is on the duty rota; a duty_manager may take over and close others' cases (S003 §3.5). */
  duty_roles: z.array(z.enum(DUTY_ROLES)).default([]),
  password_hash: passwordHash,
});

export const apiToken = z.strictObject({
  name: personName,
  role: z.enum(ROLES),
  /** Hash of the token (`dutyroom hash-password`); the token itself is shown once. */
  token_hash: passwordHash,
});

/** A broker login that is not a device: bridges (zigbee2mqtt), dashboards, integrations. */
const brokerAccount = z.strictObject({
  username: id,
  password_hash: passwordHash,
  /** Topic filters this account may publish to; empty = read-only. */
  publish: z.array(z.string().min(1)).default([]),
  /** Topic filters this account may subscribe to. */
  subscribe: z.array(z.string().min(1)).default([]),
});

const port = z.number().int().min(0).max(65535);

const broker = z.strictObject({
  /** Run the embedded aedes broker; false = use `url` (or MQTT_URL). */
  embedded: z.boolean().default(true),
  /** External broker, e.g. mqtt://broker.example:1883; the env MQTT_URL overrides it. */
  url: z.string().min(1).optional(),
  /** Credentials the gateway uses at an external broker. */
  username: z.string().optional(),
  password: z.string().optional(),
  host: z.string().default('0.0.0.0'),
  mqtt_port: port.default(1883),
  ws_port: port.optional(),
  tls: z
    .strictObject({
      port: port.default(8883),
      cert_file: z.string().min(1),
      key_file: z.string().min(1),
    })
    .optional(),
  accounts: z.array(brokerAccount).default([]),
  /** Largest payload accepted, bytes. */
  max_payload_bytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024),
  /** The doors before login (broker/doors.ts): what a client that never logs in can cost. */
  limits: z
    .strictObject({
      /** Largest packet before the CONNECT is accepted. */
      pre_auth_packet_bytes: z
        .number()
        .int()
        .min(1024)
        .default(64 * 1024),
      /** A connection that has not logged in by then is closed. */
      connect_timeout_s: z.number().positive().default(10),
      max_connections: z.number().int().positive().default(20_000),
      /** New connections per second from one address (a bridge or NAT shares one), and the burst allowed. */
      connections_per_second_per_address: z.number().positive().default(50),
      connection_burst_per_address: z.number().int().positive().default(500),
      /** Failed logins from one address in a minute before it is turned away for a minute, passwords unchecked. */
      failed_logins_per_minute_per_address: z.number().int().positive().default(10),
    })
    .prefault({}),
});

const storage = z.strictObject({
  /** influxdb1 via `influx`, influxdb2 (2.x/3.x) via `@influxdata/influxdb-client`. */
  driver: z.enum(['influxdb1', 'influxdb2']).default('influxdb1'),
  /** Unset (and no INFLUX_URL) = start a local influxd for this gateway. */
  url: z.string().url().optional(),
  database: z.string().min(1).default('dutyroom'),
  username: z.string().optional(),
  password: z.string().optional(),
  /** 2.x/3.x only. */
  org: z.string().optional(),
  bucket: z.string().optional(),
  token: z.string().optional(),
  batch_size: z.number().int().min(1).max(100000).default(5000),
  /** Free space the data directory's disk must keep (MiB); below it the duty room gets a disk_low alarm. */
  min_free_mb: z.number().positive().default(512),
  flush_interval_ms: z.number().int().min(1).default(1000),
  spool: z
    .strictObject({
      dir: z.string().min(1).optional(),
      max_bytes: z
        .number()
        .int()
        .positive()
        .default(1024 * 1024 * 1024),
      /** At most one fsync per this many ms (from the last one's start): readings appended meanwhile share the next. */
      fsync_interval_ms: z.number().int().min(0).default(20),
    })
    .prefault({}),
});

const http = z.strictObject({
  host: z.string().default('0.0.0.0'),
  port: port.default(8080),
  /** Hours a login session lasts. */
  session_hours: z.number().positive().default(12),
});

const ingest = z.strictObject({
  /** Readings stamped further in the future than this are refused. */
  max_future_s: z.number().nonnegative().default(300),
  /** Readings older than this are refused (devices that buffer offline may send late). */
  max_age_h: z
    .number()
    .positive()
    .default(24 * 7),
});

const events = z.strictObject({
  /** Publish alarms and incidents on the broker: retained states and the event stream. */
  enabled: z.boolean().default(true),
  /** Messages waiting for the broker, at most (over it, the oldest events are dropped: a gap in the sequence). */
  outbox_messages: z.number().int().positive().default(10_000),
  /** Bytes waiting for the broker, at most. */
  outbox_bytes: z
    .number()
    .int()
    .positive()
    .default(16 * 1024 * 1024),
});

const siteShape = z.strictObject({
  site: z.strictObject({
    id,
    name: text,
    timezone: timezone.default('Asia/Shanghai'),
  }),
  /** Where the spool and the embedded InfluxDB keep their files; relative to the config file. */
  data_dir: z.string().min(1).default('var'),
  buildings: z.array(building).min(1),
  devices: z.array(device).default([]),
  users: z.array(user).default([]),
  api_tokens: z.array(apiToken).default([]),
  broker: broker.prefault({}),
  /** Alarms and incidents published on the broker (README, "MQTT: topics and payloads"). */
  events: events.prefault({}),
  /** Overrides of the rule thresholds (rules/thresholds.ts): for the site, a kind, a building, a device. */
  thresholds: z
    .strictObject({
      site: thresholdOverrides.optional(),
      kinds: z.partialRecord(z.enum(DEVICE_KINDS), thresholdOverrides).optional(),
      buildings: z.record(z.string(), thresholdOverrides).optional(),
      devices: z.record(z.string(), thresholdOverrides).optional(),
    })
    .optional(),
  /** The duty rota (S003 §4.8–4.9): shifts in order, each with its handover window from its start. */
  shifts: rotaSchema.default(DEFAULT_ROTA),
  /** Changes to the shipped playbooks (rules/playbooks): deadlines of their steps, steps of this site's own. */
  playbooks: z.record(z.string(), playbookOverrideSchema).optional(),
  /** Where escalations go: group robots (WeCom 企业微信, DingTalk 钉钉) or any JSON webhook, per escalation role. */
  notifications: z
    .strictObject({
      channels: z
        .array(
          z.strictObject({
            name: id,
            type: z.enum(['webhook', 'wecom', 'dingtalk']),
            url: z.string().url(),
            roles: z.array(z.enum(DUTY_ROLES)).min(1),
          }),
        )
        .default([]),
      attempts: z.number().int().min(1).max(10).default(3),
      /**
       * Roles told at once when a critical incident opens (S001 篇3: report to the shift leader
       * and the engineering manager at once; S003: major events to the duty leader at once).
       */
      on_open: z.array(z.enum(DUTY_ROLES)).default(['duty_manager', 'engineering_manager']),
    })
    .prefault({}),
  /** Meter-anomaly reports: their limits, and when the daily and monthly ones are made and sent. */
  reports: z
    .strictObject({
      meters: meterReportSettingsShape.prefault({}),
      /** Local time of the daily report (the day before), before the shift handover; null: none. */
      daily_at: z
        .string()
        .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a local time HH:MM')
        .nullable()
        .default('08:00'),
      /** Day of the month of the monthly report (the month before), made at daily_at; null: none. */
      monthly_day: z.number().int().min(1).max(28).nullable().default(1),
      /** Escalation roles whose channels announce a new report. */
      notify_roles: z.array(z.enum(DUTY_ROLES)).default(['duty_manager']),
    })
    .prefault({}),
  /**
   * The heating season and its daily report to head office (S000 篇八 四.2(4) 供热零报告制度: by
   * 13:00 every day, also when nothing happened). Defaults: 11-15 → 03-15, 13:00, head_office.
   */
  heating: heatingSettingsShape.prefault({}),
  storage: storage.prefault({}),
  http: http.prefault({}),
  ingest: ingest.prefault({}),
});

export const siteConfig = siteShape.superRefine(checkReferences);

export type SiteConfig = z.infer<typeof siteShape>;
export type DeviceConfig = z.infer<typeof device>;
export type MqttDeviceConfig = z.infer<typeof mqttDevice>;
export type ModbusDeviceConfig = z.infer<typeof modbusDevice>;
export type BuildingConfig = z.infer<typeof building>;
export type UserConfig = z.infer<typeof user>;
export type BrokerConfig = z.infer<typeof broker>;
export type BrokerAccountConfig = z.infer<typeof brokerAccount>;
export type StorageConfig = z.infer<typeof storage>;

type Site = z.infer<typeof siteShape>;
type Problem = (path: (string | number)[], message: string) => void;

/** Cross-references a schema of shapes cannot see: unique ids, places, feeders. */
function checkReferences(cfg: Site, ctx: z.RefinementCtx): void {
  const problem: Problem = (path, message) => ctx.addIssue({ code: 'custom', path, message });
  uniqueIds(cfg, problem);
  const buildings = new Map(cfg.buildings.map((b) => [b.id, b]));
  const devices = new Map(cfg.devices.map((d) => [d.id, d]));
  cfg.buildings.forEach((b, bi) => floorsExist(b, bi, problem));
  const logins = new Set(cfg.broker.accounts.map((a) => a.username));
  cfg.devices.forEach((d, di) => {
    const at = (path: (string | number)[], message: string) => problem(['devices', di, ...path], message);
    const b = buildings.get(d.place.building);
    if (!b) at(['place', 'building'], `no building "${d.place.building}"`);
    else placeExists(d, b, at);
    linksHold(d, devices, at);
    connectionComplete(d, logins, at);
  });
  storageComplete(cfg, problem);
  for (const b of Object.keys(cfg.thresholds?.buildings ?? {})) {
    if (!buildings.has(b)) problem(['thresholds', 'buildings', b], `no building "${b}"`);
  }
  for (const d of Object.keys(cfg.thresholds?.devices ?? {})) {
    if (!devices.has(d)) problem(['thresholds', 'devices', d], `no device "${d}"`);
  }
  feederLoops(cfg.devices, problem);
}

function uniqueIds(cfg: Site, problem: Problem): void {
  const seen = <T>(items: T[], key: keyof T & string, at: string[]) => {
    const ids = new Set<string>();
    items.forEach((item, i) => {
      const value = String(item[key]);
      if (ids.has(value)) problem([...at, i, key], `duplicate ${key} "${value}"`);
      ids.add(value);
    });
  };
  seen(cfg.buildings, 'id', ['buildings']);
  seen(cfg.devices, 'id', ['devices']);
  seen(cfg.users, 'username', ['users']);
  seen(cfg.api_tokens, 'name', ['api_tokens']);
  seen(cfg.broker.accounts, 'username', ['broker', 'accounts']);
}

/** Every unit and room is on one of its building's floors. */
function floorsExist(b: BuildingConfig, bi: number, problem: Problem): void {
  const floorIds = new Set(floorsOf(b).map((f) => f.id));
  b.units.forEach((u, ui) => {
    if (!floorIds.has(u.floor))
      problem(['buildings', bi, 'units', ui, 'floor'], `building ${b.id} has no floor "${u.floor}"`);
  });
  b.rooms.forEach((r, ri) => {
    if (!floorIds.has(r.floor))
      problem(['buildings', bi, 'rooms', ri, 'floor'], `building ${b.id} has no floor "${r.floor}"`);
  });
}

/** The device's floor, unit and room exist in its building, and agree with each other. */
function placeExists(d: DeviceConfig, b: BuildingConfig, at: Problem): void {
  const floorIds = new Set(floorsOf(b).map((f) => f.id));
  if (d.place.floor && !floorIds.has(d.place.floor))
    at(['place', 'floor'], `building ${b.id} has no floor "${d.place.floor}"`);
  const u = d.place.unit ? b.units.find((x) => x.id === d.place.unit) : undefined;
  if (d.place.unit && !u) at(['place', 'unit'], `building ${b.id} has no unit "${d.place.unit}"`);
  const r = d.place.room ? b.rooms.find((x) => x.id === d.place.room) : undefined;
  if (d.place.room && !r) at(['place', 'room'], `building ${b.id} has no room "${d.place.room}"`);
  const implied = u?.floor ?? r?.floor;
  if (implied && d.place.floor && implied !== d.place.floor) {
    at(['place', 'floor'], `floor "${d.place.floor}" differs from the floor of its unit/room ("${implied}")`);
  }
}

/** The device's feeder, circuit, role and drain pump make sense for its kind and name real devices. */
function linksHold(d: DeviceConfig, devices: Map<string, DeviceConfig>, at: Problem): void {
  if (d.feeder !== undefined) {
    const f = devices.get(d.feeder);
    if (!f) at(['feeder'], `no device "${d.feeder}"`);
    else if (f.kind !== 'electricity_meter')
      at(['feeder'], `feeder "${d.feeder}" is a ${f.kind}, not an electricity_meter`);
    else if (f.id === d.id) at(['feeder'], 'a meter cannot feed itself');
  }
  if (d.circuit !== undefined && d.kind !== 'electricity_meter')
    at(['circuit'], 'only electricity meters have a circuit');
  if (d.circuit === 'sub_circuit' && d.feeder === undefined)
    at(['feeder'], 'a sub_circuit meter needs the feeder meter above it');
  if (d.circuit === 'incomer' && d.feeder !== undefined) at(['feeder'], 'an incomer has no feeder inside the site');
  if (d.nominal_voltage_v !== undefined && d.kind !== 'electricity_meter')
    at(['nominal_voltage_v'], 'only electricity meters have a nominal voltage');
  if (d.role !== undefined && d.kind !== 'pump') at(['role'], 'only pumps have a role');
  if (d.drain_pump !== undefined) {
    const p = devices.get(d.drain_pump);
    if (d.kind !== 'level_sensor') at(['drain_pump'], 'only sump-pit level sensors have a drain pump');
    else if (!p) at(['drain_pump'], `no device "${d.drain_pump}"`);
    else if (p.kind !== 'pump') at(['drain_pump'], `"${d.drain_pump}" is a ${p.kind}, not a pump`);
  }
}

/** Modbus devices say where to reach them; an MQTT device's broker login is not also a broker account. */
function connectionComplete(d: DeviceConfig, logins: Set<string>, at: Problem): void {
  if (d.protocol === 'modbus') {
    const c = d.connection;
    if (c.transport === 'tcp' && !c.host) at(['connection', 'host'], 'Modbus TCP needs a host');
    if (c.transport === 'rtu' && !c.serial_port) at(['connection', 'serial_port'], 'Modbus RTU needs a serial_port');
  } else {
    const login = d.connection.username ?? d.id;
    if (logins.has(login)) at(['connection', 'username'], `broker login "${login}" is also a broker account`);
  }
}

function storageComplete(cfg: Site, problem: Problem): void {
  if (cfg.storage.driver !== 'influxdb2') return;
  // Only InfluxDB 1.x can be started locally; a 2.x/3.x database must be named in full.
  for (const key of ['url', 'org', 'bucket', 'token'] as const) {
    if (!cfg.storage[key])
      problem(
        ['storage', key],
        `storage.driver influxdb2 needs storage.${key}${key === 'url' ? ' (or INFLUX_URL)' : ''}`,
      );
  }
}

/**
 * A feeder chain that loops would make outage inference run forever. Each loop is reported
 * once, at its first device in the file, not again for every device fed from it.
 */
function feederLoops(list: DeviceConfig[], problem: Problem): void {
  const devices = new Map(list.map((d) => [d.id, d]));
  const loops = new Set<string>();
  const indexOf = new Map(list.map((d, i) => [d.id, i]));
  list.forEach((d) => {
    const chain: string[] = [d.id];
    let next = d.feeder;
    while (next !== undefined) {
      const at = chain.indexOf(next);
      if (at >= 0) {
        const loop = chain.slice(at);
        const key = [...loop].sort().join('|');
        if (loops.has(key)) break;
        loops.add(key);
        const first = loop.reduce((a, b) => ((indexOf.get(a) ?? 0) <= (indexOf.get(b) ?? 0) ? a : b));
        const start = loop.indexOf(first);
        const ordered = [...loop.slice(start), ...loop.slice(0, start), first];
        problem(['devices', indexOf.get(first)!, 'feeder'], `feeder loop: ${ordered.join(' → ')}`);
        break;
      }
      chain.push(next);
      next = devices.get(next)?.feeder;
    }
  });
}

export interface Floor {
  id: string;
  level: number;
}

/** The floors of a building, lowest first, expanding a level range (-1 → "B1"). */
export function floorsOf(b: { floors: z.infer<typeof floors> }): Floor[] {
  if (Array.isArray(b.floors)) return [...b.floors].sort((x, y) => x.level - y.level);
  const out: Floor[] = [];
  for (let level = b.floors.lowest; level <= b.floors.highest; level++) {
    if (level === 0) continue; // Chinese buildings have no floor 0: B1 sits under 1.
    out.push({ id: level < 0 ? `B${-level}` : String(level), level });
  }
  return out;
}
