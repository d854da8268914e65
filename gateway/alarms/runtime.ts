import type { Logger } from 'pino';
import type { Severity } from '../../rules/alarms/kinds.js';
import { RuleEngine, type AlarmChange, type AlarmView } from '../../rules/engine.js';
import type { Reading } from '../../rules/model/reading.js';
import { every, realTimers, type Clock, type Timers } from '../ports/clock.js';
import type { SiteConfig } from '../config/schema.js';
import type { ComponentHealth, HealthSource } from '../health.js';
import { siteFacts } from './facts.js';
import type { AlarmJournal, JournalEntry } from './journal.js';
import type { SilenceBook } from './silences.js';
import { boardOrder } from '../../rules/alarms/order.js';
import { SystemAlarms, type SystemSnapshot } from '../../rules/alarms/system.js';
import type { Live } from '../../rules/site-facts.js';
import type { RunningDrill } from '../../rules/alarms/drill.js';
import { silencing, type Silence, type SilenceMatch } from '../../rules/alarms/silence.js';
import { criticalEpisodes, type AckEpisode } from '../../rules/incidents/drill-report.js';

// The edge around the pure rule engine: it owns the clock and the timer, feeds readings in,
// journals every change, and keeps the last changes for live streams that reconnect (SSE
// Last-Event-ID).
//
// A change reaches the duty room's screens as soon as it is decided, while its record goes to
// disk: the screens already list the engine's state in memory (GET /api/alarms), and a leak
// should not wait for a disk that can take a quarter of a second to flush
// (bench/README.md, Alarm latency). Whatever builds on a change or takes it off the machine
// (incidents, the site's event bus) and every answer to an operator (an acknowledgement's
// 2xx) still waits for the record to be on disk. Showing ahead is bounded (the journal's
// `shownAheadMax`, so that a restart can number past it): past it, and after any change held
// back, screens wait for the disk too, so changes are always shown in their journal order.

export interface AlarmFilter {
  status?: 'active' | 'firing' | 'cleared';
  building?: string;
  severity?: Severity;
  drill?: boolean;
}

export interface AlarmRuntimeOptions {
  config: SiteConfig;
  clock: Clock;
  /** Timers in the clock's time (default real ones). */
  timers?: Timers;
  journal: AlarmJournal;
  /** Silences and maintenance windows (none when absent). */
  silences?: SilenceBook;
  /** Whether the gateway's own link to a device is down (its broker connection, its Modbus line). */
  linkDown?: (deviceId: string) => string | undefined;
  logger: Logger;
  /** The drill running now, if any, with its scope: alarms on devices in its scope are tagged with it. */
  activeDrill?: () => RunningDrill | undefined;
  /** The gateway's own state, for its system alarms (rules/alarms/system.ts); none when absent. */
  system?: () => SystemSnapshot;
  /** How often open alarms and silent devices are re-checked (default 1000 ms). */
  tickMs?: number;
  /** Changes kept for streams that reconnect (default 5000). */
  backlog?: number;
}

export type AlarmListener = (entry: JournalEntry) => void;

export class AlarmRuntime implements HealthSource {
  readonly component = 'rules';
  private engine: RuleEngine | undefined;
  private readonly systemAlarms = new SystemAlarms();
  /** Told once a change is on disk. */
  private readonly listeners = new Set<AlarmListener>();
  /** Screens: told as soon as a change is decided (see the top of this file). */
  private readonly screens = new Set<AlarmListener>();
  /** Changes shown and not yet on disk, and batches of changes waiting for the disk to be shown. */
  private shownAhead = 0;
  private heldBack = 0;
  private readonly recent: JournalEntry[] = [];
  private readonly buildingOf = new Map<string, string>();
  private stopTicking: (() => void) | undefined;
  private scheduled = false;
  private changedQueued = false;
  private lastError: string | undefined;
  private writing: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: AlarmRuntimeOptions) {
    for (const d of opts.config.devices) this.buildingOf.set(d.id, d.place.building);
  }

  async start(): Promise<void> {
    const { clock, journal, logger } = this.opts;
    const now = clock.now();
    const restored = await journal.open(now, (line, detail) =>
      logger.warn({ line, detail }, 'alarm journal: damaged line skipped'),
    );
    await this.opts.silences?.load(now);
    this.engine = new RuleEngine({ facts: siteFacts(this.opts.config), start: now });
    this.engine.restore(restored.alarms);
    this.systemAlarms.restore(restored.alarms);
    this.recent.push(...restored.entries.slice(-(this.opts.backlog ?? 5000)));
    logger.info({ restored: restored.alarms.filter((a) => a.status !== 'closed').length }, 'alarm state restored');
    this.stopTicking = every(
      this.opts.timers ?? realTimers,
      this.opts.tickMs ?? 1000,
      () => {
        this.flush();
        this.flushSystem();
      },
      { background: true },
    );
  }

  observe(reading: Reading): void {
    if (!this.engine) return;
    this.engine.observe(reading, this.opts.clock.now());
    // The devices the readings changed are checked as soon as the code that took them returns
    // (a batch of messages from the broker's thread), not after the rest of a busy turn of the
    // event loop: a leak is announced sooner. The same alarms, at the same moments, as checking
    // all at once (rules/incidents/invariants/i9-changed-first.test.ts).
    if (!this.changedQueued) {
      this.changedQueued = true;
      queueMicrotask(() => {
        this.changedQueued = false;
        this.flushChanged();
      });
    }
    // The other alarms' clocks, on the next turn of the event loop.
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  acknowledge(alarmId: string, by: string, comment: string | undefined): Promise<JournalEntry[]> {
    const engine = this.requireEngine();
    const now = this.opts.clock.now();
    if (this.systemAlarms.findById(alarmId))
      return this.persist(this.systemAlarms.acknowledge(alarmId, by, comment, now));
    return this.persist(engine.acknowledge(alarmId, by, comment, now));
  }

  /** Alarms not closed, in the board's order (real before drill, critical first: rules/alarms/order.ts). */
  list(filter: AlarmFilter = {}): AlarmView[] {
    const all = [
      ...this.requireEngine()
        .active()
        .map((a) => this.annotate(a)),
      ...this.systemAlarms.active(),
    ].sort(boardOrder);
    return all.filter(
      (a) =>
        (filter.status === undefined || filter.status === 'active' || a.status === filter.status) &&
        (filter.building === undefined || this.buildingOf.get(a.deviceId) === filter.building) &&
        (filter.severity === undefined || a.severity === filter.severity) &&
        (filter.drill === undefined || (a.drill !== undefined) === filter.drill),
    );
  }

  get(alarmId: string): AlarmView | undefined {
    const system = this.systemAlarms.findById(alarmId);
    if (system) return system;
    const a =
      this.requireEngine()
        .active()
        .find((x) => x.id === alarmId) ?? this.requireEngine().findById(alarmId);
    return a && this.annotate(a);
  }

  comment(alarmId: string, by: string, text: string): Promise<JournalEntry[]> {
    const now = this.opts.clock.now();
    if (this.systemAlarms.findById(alarmId)) return this.persist(this.systemAlarms.comment(alarmId, by, text, now));
    return this.persist(this.requireEngine().comment(alarmId, by, text, now));
  }

  silences(): Silence[] {
    return this.opts.silences?.list(this.opts.clock.now()) ?? [];
  }

  /** A silence or maintenance window from now (or `from`) for `minutes`. */
  silence(s: {
    by: string;
    reason: string;
    minutes: number;
    from?: number;
    maintenance: boolean;
    match: SilenceMatch;
  }): Promise<Silence> {
    if (!this.opts.silences) return Promise.reject(new Error('this gateway keeps no silences'));
    const now = this.opts.clock.now();
    const from = s.from ?? now;
    return this.opts.silences.add(
      {
        by: s.by,
        reason: s.reason,
        from,
        until: from + s.minutes * 60_000,
        maintenance: s.maintenance,
        match: s.match,
      },
      now,
    );
  }

  unsilence(id: string): Promise<boolean> {
    return this.opts.silences?.remove(id, this.opts.clock.now()) ?? Promise.resolve(false);
  }

  /** Adds what mutes an alarm in the duty room's words: a silence, or the gateway's own link being down. */
  private annotate(a: AlarmView): AlarmView {
    const now = this.opts.clock.now();
    const silence = this.opts.silences
      ? silencing(a, this.buildingOf.get(a.deviceId), this.opts.silences.list(now), now)
      : undefined;
    // "Device offline" while the gateway itself has lost the line is the gateway's problem, not the device's.
    const link = a.kind === 'device_offline' && !a.inhibitedBy ? this.opts.linkDown?.(a.deviceId) : undefined;
    if (!silence && !link) return a;
    return {
      ...a,
      ...(silence
        ? {
            silencedBy: {
              id: silence.id,
              by: silence.by,
              reason: silence.reason,
              until: silence.until,
              maintenance: silence.maintenance,
            },
          }
        : {}),
      ...(link ? { inhibitedBy: { link } } : {}),
    };
  }

  /** Every change once its record is on disk, until the returned function is called. */
  subscribe(listener: AlarmListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * For screens: the changes after `afterSeq` still in memory, then every new one as soon as
   * it is decided, possibly before its record is on disk; until the returned function is called.
   */
  subscribeLive(listener: AlarmListener, afterSeq?: number): () => void {
    if (afterSeq !== undefined) for (const e of this.recent) if (e.seq > afterSeq) listener(e);
    this.screens.add(listener);
    return () => this.screens.delete(listener);
  }

  /** A device's latest values, each with its time: what the rules see (and the incident evidence reads). */
  liveOf(deviceId: string): Live | undefined {
    return this.engine?.liveOf(deviceId);
  }

  /** When each (kind, device) alarm of a drill first fired, from the changes still in memory. */
  firedInDrill(drillId: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const e of this.recent) {
      if (e.type !== 'firing' || e.alarm.drill !== drillId) continue;
      const key = `${e.alarm.kind}|${e.alarm.deviceId}`;
      if (!out.has(key)) out.set(key, e.at);
    }
    return out;
  }

  /** Each critical alarm of a drill, each time it fired, and who acknowledged it when (for the drill's score). */
  criticalEpisodes(drillId: string): AckEpisode[] {
    return criticalEpisodes(this.recent, drillId);
  }

  /** Resolves once every change so far is in the journal and announced. */
  async settled(): Promise<void> {
    this.flush();
    await this.writing;
  }

  health(): ComponentHealth {
    if (!this.engine) return { status: 'down', detail: 'not started' };
    if (this.lastError) return { status: 'degraded', detail: `alarm journal: ${this.lastError}` };
    return { status: 'ok', firing: this.engine.active().filter((a) => a.status === 'firing').length };
  }

  async stop(): Promise<void> {
    this.stopTicking?.();
    this.stopTicking = undefined;
    await this.writing.catch(() => undefined);
    await this.opts.journal.close();
  }

  private flush(): void {
    if (!this.engine) return;
    const changes = this.engine.evaluate(this.opts.clock.now(), this.opts.activeDrill?.());
    if (changes.length) void this.persist(changes).catch(() => undefined);
  }

  private flushChanged(): void {
    if (!this.engine) return;
    const changes = this.engine.evaluateChanged(this.opts.clock.now(), this.opts.activeDrill?.());
    if (changes.length) void this.persist(changes).catch(() => undefined);
  }

  /** The gateway's own state, as alarms (once a tick: its snapshot reads every part). */
  private flushSystem(): void {
    if (!this.engine || !this.opts.system) return;
    let snapshot: SystemSnapshot;
    try {
      snapshot = this.opts.system();
    } catch (err) {
      this.opts.logger.error({ err }, 'system snapshot failed');
      return;
    }
    const changes = this.systemAlarms.evaluate(snapshot, this.opts.clock.now());
    if (changes.length) void this.persist(changes).catch(() => undefined);
  }

  /** Evaluates the system alarms now (tests; the timer does it every tick). */
  checkSystem(): void {
    this.flushSystem();
  }

  private persist(changes: AlarmChange[]): Promise<JournalEntry[]> {
    let recorded: ReturnType<AlarmJournal['record']>;
    try {
      recorded = this.opts.journal.record(changes.map((c) => ({ type: c.event.type, at: c.event.at, alarm: c.alarm })));
    } catch (err) {
      return Promise.reject(err as Error); // the journal is closed: the gateway is stopping
    }
    const { entries, written } = recorded;
    const ahead = this.heldBack === 0 && this.shownAhead + entries.length <= this.opts.journal.shownAheadMax;
    if (ahead) {
      this.shownAhead += entries.length;
      this.show(entries);
    } else this.heldBack++;
    const landed = () => {
      if (ahead) this.shownAhead -= entries.length;
      else {
        this.heldBack--;
        this.show(entries);
      }
    };
    this.writing = this.writing
      .then(() => written)
      .then(
        () => {
          this.lastError = undefined;
          landed();
          this.tell(entries);
        },
        (err: Error) => {
          // Alarm state stays right in memory and on the screens; only its record on disk is
          // behind, and nothing builds on what is not recorded. Say so.
          this.lastError = err.message;
          this.opts.logger.error({ err: err.message }, 'alarm journal write failed');
          landed();
        },
      );
    return written.then(() => entries);
  }

  /** To the screens, the log and the stream backlog. */
  private show(entries: JournalEntry[]): void {
    for (const e of entries) {
      this.recent.push(e);
      if (e.type === 'firing' || e.type === 'reopened')
        this.opts.logger.warn(
          {
            alarm: e.alarm.id,
            kind: e.alarm.kind,
            device: e.alarm.deviceId,
            severity: e.alarm.severity,
            drill: e.alarm.drill,
          },
          `ALARM ${e.alarm.kind} on ${e.alarm.deviceId}: ${e.alarm.evidence.text.en}`,
        );
      for (const l of this.screens) l(e);
    }
    const excess = this.recent.length - (this.opts.backlog ?? 5000);
    if (excess > 0) this.recent.splice(0, excess);
  }

  /** To what builds on recorded changes. */
  private tell(entries: JournalEntry[]): void {
    for (const e of entries) for (const l of this.listeners) l(e);
  }

  private requireEngine(): RuleEngine {
    if (!this.engine) throw new Error('alarm runtime not started');
    return this.engine;
  }
}
