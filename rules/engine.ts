import { ALARM_KINDS, type AlarmKind, type Severity } from './alarms/kinds.js';
import type { AlarmView } from './alarms/view.js';
import { afterDrill, closeEndedDrill, drillOf, type RunningDrill } from './alarms/drill.js';
import {
  transition,
  type Alarm,
  type AlarmEvent,
  type AlarmInput,
  type Evidence,
  type LifecyclePolicy,
} from './alarms/lifecycle.js';
import { DEVICE_DETECTORS } from './detectors/device.js';
import { HEATING_DETECTORS } from './detectors/heating.js';
import { LIFT_DETECTORS } from './detectors/lift.js';
import { POWER_DETECTORS } from './detectors/power.js';
import type { CheckInput, Detector } from './detectors/detector.js';
import { WATER_DETECTORS } from './detectors/water.js';
import { HourlyHistory, RunHistory } from './history.js';
import { LocalTime } from './local-time.js';
import type { Reading } from './model/reading.js';
import { isOffline } from './offline.js';
import { feederChain, observe, type DeviceFacts, type Live, type SiteFacts } from './site-facts.js';
import { thresholdsResolver, type Thresholds } from './thresholds.js';

// The rule runtime's core: live values in, alarm changes out, the time always passed in.
// It keeps its state in memory (the gateway persists the changes it returns) and does no
// I/O. Work per reading is bounded: only the device read and the devices whose rules look
// at it (sump sensors of a pump, meters under a feeder) are checked.

export const ALL_DETECTORS: Detector[] = [
  ...WATER_DETECTORS,
  ...POWER_DETECTORS,
  ...LIFT_DETECTORS,
  ...HEATING_DETECTORS,
  ...DEVICE_DETECTORS,
];

/** Kinds whose active alarm on a feeder mutes inhibitable alarms below it. */
const SUPPLY_LOST: ReadonlySet<AlarmKind> = new Set(['power_cut_external', 'circuit_fault_internal']);
/** Pumps whose failure floods a basement or leaves upper floors without water. */
const CRITICAL_PUMP_ROLES: ReadonlySet<string> = new Set(['sump', 'secondary_water']);

/** How severe an alarm of this kind is on this device: the catalogue's, raised for the pumps that matter most. */
export function alarmSeverity(facts: DeviceFacts, kind: AlarmKind): Severity {
  if (kind === 'pump_failure' && facts.role && CRITICAL_PUMP_ROLES.has(facts.role)) return 'critical';
  return ALARM_KINDS[kind].severity;
}

export interface AlarmChange {
  event: AlarmEvent;
  /** The alarm as it is after this change. */
  alarm: Alarm;
}

/** Re-exported: the engine's callers read alarms as it returns them. */
export type { AlarmView };

interface DeviceRules {
  facts: DeviceFacts;
  thresholds: Thresholds;
  /** Detectors by alarm kind (several variants may raise one kind). */
  byKind: Map<AlarmKind, Detector[]>;
  /** Kinds that can start with no new reading. */
  timeBased: AlarmKind[];
}

export interface RuleEngineOptions {
  facts: SiteFacts;
  /** When the runtime started: a device never heard from counts as heard then. */
  start: number;
  detectors?: Detector[];
  /** Devices are swept for silence (offline) at most this often. */
  sweepMs?: number;
}

export class RuleEngine {
  private readonly devices = new Map<string, DeviceRules>();
  private readonly live = new Map<string, Live>();
  /** Latest alarm per `kind|device`, closed ones kept for reopening. */
  private readonly alarms = new Map<string, Alarm>();
  private readonly dependents = new Map<string, string[]>();
  /** Each device's hourly history of its kind's tracked field (TRACKED), by device id. */
  private readonly hourly = new Map<string, { field: string; history: HourlyHistory }>();
  private readonly pumpRuns = new Map<string, RunHistory>();
  /** Electricity meters: the time of the latest reading with every phase lost. */
  private readonly lostAt = new Map<string, number>();
  private readonly localTime: LocalTime;
  private readonly dirty = new Set<string>();
  private readonly sweepMs: number;
  private lastSweep = Number.NEGATIVE_INFINITY;
  private inputs: DetectorInput | undefined;
  /** The drill of the last evaluation, and when each drill was last seen to end. */
  private lastDrill: string | undefined;
  private readonly drillEnds = new Map<string, number>();

  constructor(private readonly opts: RuleEngineOptions) {
    this.sweepMs = opts.sweepMs ?? 1000;
    this.localTime = new LocalTime(opts.facts.timezone ?? 'Asia/Shanghai');
    const detectors = opts.detectors ?? ALL_DETECTORS;
    const thresholdsOf = thresholdsResolver(opts.facts.thresholds);
    // Devices to which the same detectors apply share one table (at 10,000 devices a table
    // each was 11 MB of heap).
    const tables = new Map<string, Pick<DeviceRules, 'byKind' | 'timeBased'>>();
    for (const facts of opts.facts.devices.values()) {
      const applying: Detector[] = [];
      let signature = '';
      detectors.forEach((d, i) => {
        if (!d.applies(facts)) return;
        applying.push(d);
        signature += `${i},`;
      });
      let table = tables.get(signature);
      if (!table) {
        const byKind = new Map<AlarmKind, Detector[]>();
        for (const d of applying) byKind.set(d.kind, [...(byKind.get(d.kind) ?? []), d]);
        const timeBased = [...byKind].filter(([, ds]) => ds.some((d) => d.timeBased)).map(([k]) => k);
        tables.set(signature, (table = { byKind, timeBased }));
      }
      this.devices.set(facts.id, { facts, thresholds: thresholdsOf(facts), ...table });
      this.live.set(facts.id, { fields: new Map(), heardAt: opts.start });
      // Whose rules read this device: a level sensor reads its drain pump; a sub-circuit reads the meters above it.
      const watch = (source: string) => this.dependents.set(source, [...(this.dependents.get(source) ?? []), facts.id]);
      if (facts.drainPump) watch(facts.drainPump);
      for (const f of feederChain(opts.facts, facts.id)) watch(f);
    }
  }

  /** Takes a reading into the live values (a reading of an unknown device is ignored). */
  observe(r: Reading, receivedAt: number): void {
    if (!this.devices.has(r.deviceId)) return;
    observe(this.live.get(r.deviceId), r, receivedAt);
    const tracked = TRACKED[r.kind];
    const v = tracked ? r.fields[tracked] : undefined;
    if (typeof v === 'number') {
      // By device id alone (a device has one kind, so one tracked field): a key made of id and
      // field was a new string to hash for every reading.
      let h = this.hourly.get(r.deviceId);
      if (!h || h.field !== tracked)
        this.hourly.set(r.deviceId, (h = { field: tracked!, history: new HourlyHistory() }));
      h.history.add(r.ts, v);
    }
    if (r.kind === 'electricity_meter') {
      const rules = this.devices.get(r.deviceId)!;
      const limit = (rules.thresholds.phase_loss_pct / 100) * (rules.facts.nominalVoltage ?? 220);
      const phases = PHASES.map((f) => r.fields[f]).filter((v): v is number => typeof v === 'number');
      if (phases.length > 0 && phases.every((v) => v < limit))
        this.lostAt.set(r.deviceId, Math.max(this.lostAt.get(r.deviceId) ?? r.ts, r.ts));
    }
    if (r.kind === 'pump' && typeof r.fields.running === 'boolean') {
      let runs = this.pumpRuns.get(r.deviceId);
      if (!runs) this.pumpRuns.set(r.deviceId, (runs = new RunHistory()));
      runs.add(r.ts, r.fields.running);
    }
    this.dirty.add(r.deviceId);
    for (const d of this.dependents.get(r.deviceId) ?? []) this.dirty.add(d);
  }

  /**
   * Checks what changed since the last call, advances every open alarm's clock, and sweeps
   * for silent devices. `drill`: the drill running now; alarms raised on devices in its scope
   * carry its id (alarms elsewhere are real), and cleared alarms of drills no longer running close.
   */
  evaluate(now: number, drill?: RunningDrill): AlarmChange[] {
    this.noteDrill(now, drill);
    const todo = new Map<string, Set<AlarmKind> | 'all'>();
    for (const id of this.dirty) todo.set(id, 'all');
    this.dirty.clear();
    for (const a of this.alarms.values()) {
      if (a.status === 'closed') continue;
      const t = todo.get(a.deviceId);
      if (t === 'all') continue;
      todo.set(a.deviceId, (t ?? new Set()).add(a.kind));
    }
    if (now - this.lastSweep >= this.sweepMs) {
      this.lastSweep = now;
      for (const [id, rules] of this.devices) {
        const t = todo.get(id);
        if (t === 'all') continue;
        const kinds = t ?? new Set<AlarmKind>();
        for (const k of rules.timeBased) kinds.add(k);
        if (kinds.size) todo.set(id, kinds);
      }
    }
    return this.checkAll(todo, now, drill);
  }

  /**
   * Checks only the devices with readings since the last call (and those whose rules read
   * them), as `evaluate` would check them; other alarms' clocks and the sweep for silent
   * devices wait for the next `evaluate`. Cheap enough to run after every handful of
   * readings, so that a leak is announced without waiting for the rest of a busy turn.
   */
  evaluateChanged(now: number, drill?: RunningDrill): AlarmChange[] {
    if (this.dirty.size === 0) return [];
    this.noteDrill(now, drill);
    const todo = new Map<string, 'all'>();
    for (const id of this.dirty) todo.set(id, 'all');
    this.dirty.clear();
    return this.checkAll(todo, now, drill);
  }

  private noteDrill(now: number, drill: RunningDrill | undefined): void {
    if (this.lastDrill === drill?.id) return;
    if (this.lastDrill !== undefined) this.drillEnds.set(this.lastDrill, now);
    this.lastDrill = drill?.id;
  }

  private checkAll(
    todo: ReadonlyMap<string, ReadonlySet<AlarmKind> | 'all'>,
    now: number,
    drill: RunningDrill | undefined,
  ): AlarmChange[] {
    const changes: AlarmChange[] = [];
    for (const [id, kinds] of todo) {
      const rules = this.devices.get(id)!;
      for (const [kind, detectors] of rules.byKind) {
        if (kinds !== 'all' && !kinds.has(kind)) continue;
        this.check(rules, kind, detectors, now, drill, changes);
      }
    }
    return changes;
  }

  /** Acknowledges an alarm by id (it may be firing or cleared). */
  acknowledge(alarmId: string, by: string, comment: string | undefined, now: number): AlarmChange[] {
    return this.apply(alarmId, { type: 'acknowledge', by, ...(comment ? { comment } : {}) }, now);
  }

  /** Adds a note to an open alarm. */
  comment(alarmId: string, by: string, text: string, now: number): AlarmChange[] {
    return this.apply(alarmId, { type: 'comment', by, text }, now);
  }

  /** Alarms not closed, with inhibition worked out. */
  active(): AlarmView[] {
    const out: AlarmView[] = [];
    for (const a of this.alarms.values()) {
      if (a.status === 'closed' || a.status === 'pending') continue;
      const cause = this.inhibitor(a);
      out.push(cause ? { ...a, inhibitedBy: cause } : a);
    }
    return out;
  }

  findById(alarmId: string): Alarm | undefined {
    for (const a of this.alarms.values()) if (a.id === alarmId) return a;
    return undefined;
  }

  /** Puts back the alarms a restarted gateway had (from its stored events). */
  restore(alarms: Iterable<Alarm>): void {
    for (const a of alarms) {
      if (!this.devices.has(a.deviceId)) continue;
      const k = keyOf(a.kind, a.deviceId);
      const prev = this.alarms.get(k);
      if (!prev || prev.since <= a.since) this.alarms.set(k, a);
    }
  }

  /**
   * One detector input, reused for every check of an evaluation: this runs for every reading,
   * and a fresh object with its closures per check was a fifth of the engine's time. Detectors
   * read it and return; none keeps it.
   */
  private input(now: number): CheckInput {
    if (this.inputs?.now !== now) this.inputs = new DetectorInput(this, now);
    return this.inputs;
  }

  /** @internal for DetectorInput */
  silentAt(id: string, now: number): boolean {
    return this.silent(id, now);
  }

  /** @internal for DetectorInput */
  histories(): {
    hourly: Map<string, { field: string; history: HourlyHistory }>;
    runs: Map<string, RunHistory>;
    lostAt: Map<string, number>;
    localTime: LocalTime;
    facts: SiteFacts;
  } {
    return {
      hourly: this.hourly,
      runs: this.pumpRuns,
      lostAt: this.lostAt,
      localTime: this.localTime,
      facts: this.opts.facts,
    };
  }

  private silent(id: string, now: number): boolean {
    const rules = this.devices.get(id);
    const live = this.live.get(id);
    return (
      rules !== undefined && live !== undefined && isOffline(live.heardAt, now, rules.facts.intervalS, rules.thresholds)
    );
  }

  private apply(alarmId: string, input: AlarmInput, now: number): AlarmChange[] {
    const alarm = this.findById(alarmId);
    if (!alarm) throw new RangeError(`no alarm "${alarmId}"`);
    const rules = this.devices.get(alarm.deviceId)!;
    const t = transition(alarm, alarm, input, now, this.policy(rules, alarm.kind, []));
    this.alarms.set(keyOf(alarm.kind, alarm.deviceId), t.alarm!);
    return t.events.map((event) => ({ event, alarm: t.alarm! }));
  }

  liveOf(id: string): Live | undefined {
    return this.live.get(id);
  }

  private check(
    rules: DeviceRules,
    kind: AlarmKind,
    detectors: Detector[],
    now: number,
    drill: RunningDrill | undefined,
    changes: AlarmChange[],
  ): void {
    const k = keyOf(kind, rules.facts.id);
    const prev = this.alarms.get(k);
    const wasActive = prev !== undefined && prev.status !== 'closed' && prev.status !== 'cleared';
    const { found, holding } = this.detect(rules, detectors, wasActive, now);
    if (!found && (!prev || prev.status === 'closed')) return;
    let tag = drillOf(rules.facts.id, drill);
    let from = prev;
    if (
      prev &&
      prev.drill !== undefined &&
      prev.drill !== drill?.id &&
      (prev.status === 'pending' || prev.status === 'firing')
    ) {
      const fate = this.afterItsDrill(
        prev,
        prev.status,
        prev.drill,
        found !== undefined,
        tag !== undefined,
        now,
        changes,
      );
      if (fate === 'gone') {
        this.alarms.delete(k);
        return;
      }
      if (fate === 'kept') tag = prev.drill;
      else from = undefined;
    }
    const t = transition(
      from,
      { kind, deviceId: rules.facts.id, ...(prev ? { previousId: prev.id } : {}) },
      {
        type: 'condition',
        active: found !== undefined,
        ...(found ? { evidence: found } : {}),
        ...(tag ? { drill: tag } : {}),
      },
      now,
      this.policy(rules, kind, holding.length ? holding : detectors),
    );
    let alarm = t.alarm;
    const events = [...t.events];
    if (alarm) {
      const ended = closeEndedDrill(alarm, drill?.id, now);
      alarm = ended.alarm;
      if (ended.event) events.push(ended.event);
    }
    if (alarm) this.alarms.set(k, alarm);
    else this.alarms.delete(k);
    for (const event of events) changes.push({ event, alarm: alarm ?? prev! });
  }

  /** Runs the kind's detectors on the device: the first evidence found, and every variant that holds. */
  private detect(
    rules: DeviceRules,
    detectors: Detector[],
    wasActive: boolean,
    now: number,
  ): { found: Evidence | undefined; holding: Detector[] } {
    const input = this.input(now);
    input.device = rules.facts;
    input.live = this.live.get(rules.facts.id);
    input.t = rules.thresholds;
    input.wasActive = wasActive;
    const holding: Detector[] = [];
    let found: Evidence | undefined;
    for (const d of detectors) {
      const e = d.check(input);
      if (e) {
        holding.push(d);
        found ??= e;
      }
    }
    return { found, holding };
  }

  /**
   * An alarm of a drill that is over: it must not fire after it, nor hide a real event (I1).
   * Kept under its drill's tag (waiting, or clearing), or ended: then a real alarm may start
   * afresh, or is gone for now when the device's latest readings are still the drill's.
   */
  private afterItsDrill(
    prev: Alarm,
    status: 'pending' | 'firing',
    drillId: string,
    holds: boolean,
    playedByRunningDrill: boolean,
    now: number,
    changes: AlarmChange[],
  ): 'kept' | 'ended' | 'gone' {
    const endedAt = this.drillEnds.get(drillId) ?? now;
    const heardAt = this.live.get(prev.deviceId)?.heardAt ?? Number.NEGATIVE_INFINITY;
    const fate = afterDrill(status, heardAt, endedAt, holds, playedByRunningDrill);
    if (fate === 'wait' || fate === 'clear') return 'kept';
    changes.push(
      status === 'pending'
        ? { event: { type: 'dropped', alarmId: prev.id, at: now }, alarm: prev }
        : {
            event: { type: 'closed', alarmId: prev.id, at: now },
            alarm: { ...prev, status: 'closed', closedAt: now },
          },
    );
    // Dropped on readings from the drill: a real one may start only on readings taken since.
    return fate !== 'next' && heardAt <= endedAt ? 'gone' : 'ended';
  }

  /** Several variants of one kind: the quickest of those holding decides when it fires; the slowest when it clears. */
  private policy(rules: DeviceRules, kind: AlarmKind, variants: Detector[]): LifecyclePolicy {
    const durations = (variants.length ? variants : (rules.byKind.get(kind) ?? [])).map((d) =>
      d.durations(rules.thresholds),
    );
    return {
      forS: durations.length ? Math.min(...durations.map((d) => d.forS)) : 0,
      clearS: Math.max(0, ...durations.map((d) => d.clearS)),
      reopenS: 600,
      severity: this.severity(rules.facts, kind),
    };
  }

  private severity(facts: DeviceFacts, kind: AlarmKind): Severity {
    return alarmSeverity(facts, kind);
  }

  /** A lost supply above the device (its feeder chain, or its building's incomer) mutes inhibitable alarms. */
  private inhibitor(a: Alarm): AlarmView['inhibitedBy'] {
    if (!ALARM_KINDS[a.kind].inhibitable) return undefined;
    const facts = this.devices.get(a.deviceId)?.facts;
    if (!facts) return undefined;
    const suppliers = new Set(feederChain(this.opts.facts, a.deviceId));
    for (const other of this.alarms.values()) {
      // Only a supply still lost mutes: once the cut has cleared (power back, even if nobody has
      // acknowledged it yet) a pump that fails to restart must reach the duty room.
      if (!SUPPLY_LOST.has(other.kind) || other.status !== 'firing' || other.deviceId === a.deviceId) continue;
      const otherFacts = this.devices.get(other.deviceId)?.facts;
      const sameBuildingCut = other.kind === 'power_cut_external' && otherFacts?.building === facts.building;
      if (suppliers.has(other.deviceId) || sameBuildingCut)
        return { alarmId: other.id, kind: other.kind, deviceId: other.deviceId };
    }
    return undefined;
  }
}

const keyOf = (kind: AlarmKind, deviceId: string) => `${kind}|${deviceId}`;

/**
 * The detector input of one evaluation time; the engine sets the device fields before each
 * check. Its functions are arrow properties: detectors destructure them.
 */
class DetectorInput implements CheckInput {
  device!: DeviceFacts;
  live: Live | undefined;
  t!: Thresholds;
  wasActive = false;
  readonly facts: SiteFacts;
  readonly liveOf: CheckInput['liveOf'];
  readonly hourly: CheckInput['hourly'];
  readonly runs: CheckInput['runs'];
  readonly lostUntil: CheckInput['lostUntil'];
  readonly silent: CheckInput['silent'];
  readonly local: CheckInput['local'];

  constructor(
    engine: RuleEngine,
    readonly now: number,
  ) {
    const h = engine.histories();
    this.facts = h.facts;
    this.liveOf = (id) => engine.liveOf(id);
    this.hourly = (id, field) => {
      const kept = h.hourly.get(id);
      return kept?.field === field ? kept.history : undefined;
    };
    this.runs = (id) => h.runs.get(id);
    this.lostUntil = (id) => h.lostAt.get(id);
    this.silent = (id) => engine.silentAt(id, now);
    this.local = (ts) => h.localTime.parts(ts);
  }
}

const PHASES = ['voltage_l1_v', 'voltage_l2_v', 'voltage_l3_v'] as const;

/** The one field per kind whose hourly history some rules read. */
const TRACKED: Partial<Record<Reading['kind'], string>> = { water_meter: 'flow_m3h', electricity_meter: 'power_kw' };
