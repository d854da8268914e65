import type { AlarmKind } from './kinds.js';
import { policyFor, transition, type Alarm, type AlarmEvent, type AlarmInput, type Evidence } from './lifecycle.js';

// The monitor watches itself (issue 16): the gateway's own state as alarms on the duty room's
// board, with evidence, so that a failing monitor is not mistaken for a quiet estate. The
// gateway takes a snapshot of its parts every second; here, purely, is what each snapshot
// says is wrong. Each alarm's subject is the part it is about (`gateway`, or a Modbus line).

export interface SystemSnapshot {
  /** The database: failing writes since this time (epoch ms), or fine. */
  store?: { downSince?: number };
  /** The spool: its size against its limit, whether it refuses readings (full or failing) and why. */
  spool?: {
    bytes: number;
    maxBytes: number;
    refusing?: { reason: 'spool_full' | 'spool_error'; detail?: string };
    oldestAgeS?: number;
  };
  /** The embedded broker: why it is down (undefined: running), and its restarts so far with the last one's time. */
  broker?: { down?: string; restarts: number; lastRestartAt?: number };
  /** Modbus lines (endpoints) on which no device answers. */
  modbusLinesDown?: { line: string; devices: number; since?: number }[];
  /** The data directory's disk. */
  disk?: { path: string; freeBytes: number; floorBytes: number };
  /** The system clock moved against a monotonic clock by this much at this time. */
  clockJump?: { ms: number; at: number };
}

export interface SystemCondition {
  kind: SystemKind;
  subject: string;
  evidence: Evidence;
}

export type SystemKind = Extract<
  AlarmKind,
  | 'storage_unreachable'
  | 'spool_half_full'
  | 'spool_nearly_full'
  | 'spool_refusing'
  | 'broker_down'
  | 'broker_restarted'
  | 'modbus_line_down'
  | 'disk_low'
  | 'clock_jump'
>;

/** How long each condition must hold before it fires, and stay gone before it clears (seconds). */
export const SYSTEM_DURATIONS: Record<SystemKind, { forS: number; clearS: number }> = {
  storage_unreachable: { forS: 30, clearS: 10 },
  spool_half_full: { forS: 0, clearS: 60 },
  spool_nearly_full: { forS: 0, clearS: 60 },
  spool_refusing: { forS: 0, clearS: 30 },
  broker_down: { forS: 5, clearS: 5 },
  broker_restarted: { forS: 0, clearS: 0 },
  modbus_line_down: { forS: 60, clearS: 10 },
  disk_low: { forS: 0, clearS: 60 },
  clock_jump: { forS: 0, clearS: 0 },
};

/** How long a restart or a clock jump stays on the board as a fact to look at. */
export const REMEMBER_MS = 10 * 60_000;
/** A clock moving this much against the monotonic clock is a jump (NTP slews far less). */
export const CLOCK_JUMP_MS = 5000;

/** Sizes as a person reads them: 64 KiB, 7.5 MiB, 12.0 GiB. */
export function bytesText(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${Math.round(n / 1024)} KiB`;
}
const say = (zh: string, en: string): Evidence => ({ text: { zh, en }, readings: [] });
const iso = (ms: number) => new Date(ms).toISOString();

type Add = (kind: SystemKind, subject: string, evidence: Evidence) => void;

/** What is wrong now, by what the snapshot shows, one check per part of the gateway. Pure. */
export function systemConditions(s: SystemSnapshot, now: number): SystemCondition[] {
  const out: SystemCondition[] = [];
  const add: Add = (kind, subject, evidence) => out.push({ kind, subject, evidence });
  for (const check of [storage, spool, broker, modbusLines, disk, clock]) check(s, now, add);
  return out;
}

/** The database refuses writes. */
function storage(s: SystemSnapshot, now: number, add: Add): void {
  if (s.store?.downSince !== undefined) {
    const forS = Math.round((now - s.store.downSince) / 1000);
    add(
      'storage_unreachable',
      'gateway',
      say(
        `数据库写入失败已 ${forS} 秒（自 ${iso(s.store.downSince)}），读数暂存在本地`,
        `database writes failing for ${forS} s (since ${iso(s.store.downSince)}); readings are kept in the spool`,
      ),
    );
  }
}

/** The spool refuses readings, or fills up. */
function spool(s: SystemSnapshot, _now: number, add: Add): void {
  if (s.spool) {
    const pct = s.spool.maxBytes > 0 ? (100 * s.spool.bytes) / s.spool.maxBytes : 0;
    const size = `${bytesText(s.spool.bytes)} / ${bytesText(s.spool.maxBytes)}`;
    const age =
      s.spool.oldestAgeS !== undefined ? `; oldest reading waiting ${Math.round(s.spool.oldestAgeS / 60)} min` : '';
    const r = s.spool.refusing;
    if (r?.reason === 'spool_full') {
      add(
        'spool_refusing',
        'gateway',
        say(
          `本地暂存已满（${size}），等待数据库取走积压，新读数被拒收；设备保留未确认的读数并会重发`,
          `the spool is full (${size}) until the database takes the backlog: new readings are refused; devices keep what was not acknowledged and send it again`,
        ),
      );
    } else if (r) {
      const why = r.detail ? `: ${r.detail}` : '';
      add(
        'spool_refusing',
        'gateway',
        say(
          `本地暂存无法写入磁盘${why}；新读数被拒收，设备会重发`,
          `the spool cannot write to its disk${why}; new readings are refused, devices will send them again`,
        ),
      );
    }
    if (pct >= 90)
      add(
        'spool_nearly_full',
        'gateway',
        say(`本地暂存已用 ${pct.toFixed(0)}%（${size}）`, `spool ${pct.toFixed(0)} % full (${size})${age}`),
      );
    else if (pct >= 50)
      add(
        'spool_half_full',
        'gateway',
        say(`本地暂存已用 ${pct.toFixed(0)}%（${size}）`, `spool ${pct.toFixed(0)} % full (${size})${age}`),
      );
  }
}

/** The embedded broker is down, or restarted lately. */
function broker(s: SystemSnapshot, now: number, add: Add): void {
  if (s.broker?.down)
    add(
      'broker_down',
      'gateway',
      say(`MQTT 服务停止：${s.broker.down}；设备无法上报`, `MQTT broker down: ${s.broker.down}; devices cannot report`),
    );
  if (s.broker?.lastRestartAt !== undefined && now - s.broker.lastRestartAt < REMEMBER_MS) {
    add(
      'broker_restarted',
      'gateway',
      say(
        `MQTT 服务于 ${iso(s.broker.lastRestartAt)} 自动重启（共 ${s.broker.restarts} 次）`,
        `MQTT broker restarted by itself at ${iso(s.broker.lastRestartAt)} (${s.broker.restarts} restart(s) so far)`,
      ),
    );
  }
}

/** A whole Modbus line is silent. */
function modbusLines(s: SystemSnapshot, _now: number, add: Add): void {
  for (const l of s.modbusLinesDown ?? [])
    add(
      'modbus_line_down',
      `modbus:${l.line}`,
      say(
        `Modbus 线路 ${l.line} 上 ${l.devices} 台设备均无应答（转换器断电或断线？）`,
        `no device answers on Modbus line ${l.line} (${l.devices} device(s)): converter off or cable cut?`,
      ),
    );
}

/** The data disk is below its floor. */
function disk(s: SystemSnapshot, _now: number, add: Add): void {
  if (s.disk && s.disk.freeBytes < s.disk.floorBytes) {
    const free = bytesText(s.disk.freeBytes);
    const floor = bytesText(s.disk.floorBytes);
    add(
      'disk_low',
      'gateway',
      say(
        `数据盘 ${s.disk.path} 仅剩 ${free}（下限 ${floor}）`,
        `data disk ${s.disk.path}: ${free} free, below ${floor}`,
      ),
    );
  }
}

/** The system clock jumped lately. */
function clock(s: SystemSnapshot, now: number, add: Add): void {
  if (s.clockJump && Math.abs(s.clockJump.ms) >= CLOCK_JUMP_MS && now - s.clockJump.at < REMEMBER_MS) {
    add(
      'clock_jump',
      'gateway',
      say(
        `系统时钟于 ${iso(s.clockJump.at)} 跳变 ${Math.round(s.clockJump.ms / 1000)} 秒：期间的时间戳可能有误`,
        `system clock jumped ${Math.round(s.clockJump.ms / 1000)} s at ${iso(s.clockJump.at)}: times around it may be off`,
      ),
    );
  }
}

/**
 * The gateway's own alarms, with the same lifecycle as the estate's (pending, firing, cleared,
 * acknowledged per episode, closed): a plain state the runtime feeds snapshots and commands.
 */
export class SystemAlarms {
  private readonly alarms = new Map<string, Alarm>();

  /** The changes a snapshot makes. */
  evaluate(snapshot: SystemSnapshot, now: number): SystemChange[] {
    const changes: SystemChange[] = [];
    const found = new Map(systemConditions(snapshot, now).map((c) => [keyOf(c.kind, c.subject), c]));
    const keys = new Set([
      ...found.keys(),
      ...[...this.alarms].filter(([, a]) => a.status !== 'closed').map(([k]) => k),
    ]);
    for (const key of keys) {
      const c = found.get(key);
      const prev = this.alarms.get(key);
      const [kind, subject] = c ? [c.kind, c.subject] : [prev!.kind as SystemKind, prev!.deviceId];
      const t = transition(
        prev,
        { kind, deviceId: subject },
        { type: 'condition', active: c !== undefined, ...(c ? { evidence: c.evidence } : {}) },
        now,
        policyFor(kind, SYSTEM_DURATIONS[kind]),
      );
      if (t.alarm) this.alarms.set(key, t.alarm);
      else this.alarms.delete(key);
      for (const event of t.events) changes.push({ event, alarm: t.alarm ?? prev! });
    }
    return changes;
  }

  acknowledge(alarmId: string, by: string, comment: string | undefined, now: number): SystemChange[] {
    return this.apply(alarmId, { type: 'acknowledge', by, ...(comment ? { comment } : {}) }, now);
  }

  comment(alarmId: string, by: string, text: string, now: number): SystemChange[] {
    return this.apply(alarmId, { type: 'comment', by, text }, now);
  }

  findById(alarmId: string): Alarm | undefined {
    for (const a of this.alarms.values()) if (a.id === alarmId) return a;
    return undefined;
  }

  /** Firing and cleared ones. */
  active(): Alarm[] {
    return [...this.alarms.values()].filter((a) => a.status === 'firing' || a.status === 'cleared');
  }

  /** Puts back the alarms a restarted gateway had. */
  restore(alarms: Iterable<Alarm>): void {
    for (const a of alarms) if (isSystemKind(a.kind)) this.alarms.set(keyOf(a.kind, a.deviceId), a);
  }

  private apply(alarmId: string, input: AlarmInput, now: number): SystemChange[] {
    const alarm = this.findById(alarmId);
    if (!alarm) throw new RangeError(`no alarm "${alarmId}"`);
    const kind = alarm.kind as SystemKind;
    const t = transition(alarm, alarm, input, now, policyFor(kind, SYSTEM_DURATIONS[kind]));
    this.alarms.set(keyOf(kind, alarm.deviceId), t.alarm!);
    return t.events.map((event) => ({ event, alarm: t.alarm! }));
  }
}

export interface SystemChange {
  event: AlarmEvent;
  alarm: Alarm;
}

export function isSystemKind(kind: string): kind is SystemKind {
  return Object.hasOwn(SYSTEM_DURATIONS, kind);
}

const keyOf = (kind: string, subject: string) => `${kind}|${subject}`;
