import { wallTime } from '../../rules/local-time.js';
import type { Clock } from '../../gateway/ports/clock.js';
import { DrillError, type DrillService } from '../../gateway/ports/drills.js';
import type { RunningDrill } from '../../rules/alarms/drill.js';
import type { ConfigProblem } from '../../gateway/ports/data-files.js';
import type { EstateControl, FaultType } from '../estate/types.js';
import { describeStep, ScenarioRun, type AppliedStep } from '../scenarios/runner.js';
import {
  targets,
  type AlarmExpectation,
  type ReadingExpectation,
  type Scenario,
  type Text,
} from '../scenarios/schema.js';

// Drill mode: one scenario at a time played against the simulated estate the gateway reads,
// so the duty room sees the emergency through the real pipeline (protocols, rules, alarms,
// incidents). The controller owns the running drill and the record of past ones; it reads
// the time from the clock it is given and does nothing until ticked, so tests run it on
// virtual time and the demo ticks it with the estate's scaled clock.
//
// While a drill runs, `runningDrill()` names it and its scope: the rules runtime stamps the
// alarms raised meanwhile on devices in the scope with its id (an alarm elsewhere is real),
// incidents inherit the stamp, notification senders refuse real channels for anything
// stamped, and its incidents close when it ends. A drill ends when its scenario's time is up or
// when someone stops it; either way the faults it set are cleared at once, because a fault
// outliving its drill would raise untagged alarms that look real.

export type DrillStatus = 'running' | 'completed' | 'stopped' | 'interrupted';

export type DrillAlarmExpectation = AlarmExpectation & {
  /** Simulated epoch ms by which it should be firing; null until its cause step has been applied. */
  dueBy: number | null;
};
export type DrillReadingExpectation = ReadingExpectation & { dueBy: number | null };

export interface Drill {
  id: string;
  scenario: string;
  title: Text;
  status: DrillStatus;
  startedAt: number;
  startedBy: string;
  /** When the scenario's time runs out (it ends itself then). */
  endsAt: number;
  endedAt?: number;
  /** Who stopped it; absent when it completed on its own or was interrupted. */
  endedBy?: string;
  /** The devices its steps act on. */
  devices: string[];
  /** Those devices and everything they feed: where its alarms are expected to come from. */
  scope: string[];
  /** Every step applied, in order: what was injected and when. */
  log: AppliedStep[];
  /** Faults still set when it ended, cleared then. */
  cleared: { device: string; type: FaultType }[];
  expects: { alarms: DrillAlarmExpectation[]; playbooks: string[]; readings: DrillReadingExpectation[] };
}

/** A scenario as the API lists it. */
export interface ScenarioInfo {
  name: string;
  title: Text;
  description: Text;
  site?: string;
  /** Seconds of simulated time. */
  duration: number;
  devices: string[];
  steps: Scenario['steps'];
  expects: Scenario['expects'];
  /** Each step in words, in both languages (the same words as the drill log), for the drills page. */
  timeline: { at: number; id?: string; action: 'inject' | 'clear' | 'note'; what: Text; note?: Text }[];
  /** Titles of the playbooks it expects, by id (absent for an id this gateway does not know). */
  playbookTitles: Record<string, Text>;
  /** Whether it can run against this gateway's estate; `problems` say why not (file, line). */
  fits: boolean;
  problems: string[];
}

/** One line of the drill journal (an append-only file, so the history survives restarts). */
export type DrillRecord =
  | { type: 'started'; drill: Drill }
  | { type: 'applied'; drillId: string; entries: AppliedStep[] }
  | {
      type: 'ended';
      drillId: string;
      status: Exclude<DrillStatus, 'running'>;
      at: number;
      by?: string;
      cleared: { device: string; type: FaultType }[];
    };

export interface DrillLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface DrillControllerOptions {
  scenarios: { scenario: Scenario; file?: string; problems?: readonly ConfigProblem[] }[];
  /** The simulated estate; without one the controller lists scenarios and history but refuses to start. */
  estate?: EstateControl;
  clock: Clock;
  /** The site's time zone: drill ids carry the local start time (default Asia/Shanghai). */
  timeZone?: string;
  /** Where each change is recorded before it is announced (createDrills gives an fsynced file). */
  journal?: { append(records: DrillRecord[]): Promise<unknown> };
  /** The journal's records from earlier runs. */
  past?: readonly DrillRecord[];
  logger?: DrillLogger;
  /** Called by close() once a running drill has been ended. */
  onClose?: () => Promise<void>;
  /** A playbook's title by id, so the drills page names what a scenario expects in words. */
  playbookTitle?: (id: string) => Text | undefined;
}

const HISTORY_KEPT = 200;

export class DrillController implements DrillService {
  private readonly byName = new Map<string, DrillControllerOptions['scenarios'][number]>();
  private readonly drills = new Map<string, Drill>();
  private current: { drill: Drill; run: ScenarioRun; scope: RunningDrill } | undefined;
  constructor(private readonly opts: DrillControllerOptions) {
    for (const s of opts.scenarios) this.byName.set(s.scenario.name, s);
    for (const r of opts.past ?? []) this.fold(r);
  }

  /**
   * Ends what the journal says was still running: the process stopped mid-drill, and the
   * estate it played against is gone with it. Call once before the first start.
   */
  async recover(): Promise<Drill[]> {
    const open = [...this.drills.values()].filter((d) => d.status === 'running');
    const records: DrillRecord[] = open.map((d) => ({
      type: 'ended',
      drillId: d.id,
      status: 'interrupted',
      at: d.log.at(-1)?.at ?? d.startedAt,
      cleared: [],
    }));
    for (const r of records) this.fold(r);
    await this.opts.journal?.append(records);
    return open;
  }

  /** Whether this gateway has a simulated estate to play drills against. */
  available(): boolean {
    return this.opts.estate !== undefined;
  }

  scenarios(): ScenarioInfo[] {
    return [...this.byName.values()].map(({ scenario: s, problems = [], file }) => ({
      name: s.name,
      title: s.title,
      description: s.description,
      ...(s.site ? { site: s.site } : {}),
      duration: s.duration,
      devices: targets(s),
      steps: s.steps,
      expects: s.expects,
      timeline: s.steps.map((st) => ({
        at: st.at,
        ...(st.id !== undefined ? { id: st.id } : {}),
        action: st.inject ? 'inject' : st.clear ? 'clear' : 'note',
        what: describeStep(st),
        // A note on an inject or clear says what it stands for in the story; on its own it is the step.
        ...(st.note && (st.inject || st.clear) ? { note: st.note } : {}),
      })),
      playbookTitles: Object.fromEntries(
        s.expects.playbooks.flatMap((id) => {
          const title = this.opts.playbookTitle?.(id);
          return title ? [[id, title]] : [];
        }),
      ),
      fits: problems.length === 0,
      problems: problems.map((p) => `${file ?? s.name}:${p.line}:${p.col}  ${p.path || '(top)'}: ${p.message}`),
    }));
  }

  /** The drill running now (its id is what alarms raised meanwhile carry). */
  activeDrill(): { id: string; scenario: string; startedAt: number } | undefined {
    const d = this.current?.drill;
    return d && { id: d.id, scenario: d.scenario, startedAt: d.startedAt };
  }

  /** The running drill's id. */
  activeDrillId(): string | undefined {
    return this.current?.drill.id;
  }

  /**
   * The running drill and its scope (the devices it acts on and what they feed): what
   * `startGateway({ activeDrill })` takes, so that only alarms there are the drill's and a
   * real alarm elsewhere in the estate during a drill stays real (I1).
   */
  runningDrill(): RunningDrill | undefined {
    return this.current?.scope;
  }

  /** The running drill, if any. */
  running(): Drill | undefined {
    return this.current && structuredClone(this.current.drill);
  }

  /** The running drill, if any, and the ended ones, newest first. */
  status(): { available: boolean; current: Drill | null; history: Drill[] } {
    const history = [...this.drills.values()]
      .filter((d) => d.status !== 'running')
      .sort((a, b) => b.startedAt - a.startedAt);
    return { available: this.available(), current: this.running() ?? null, history: structuredClone(history) };
  }

  get(id: string): Drill {
    const d = this.drills.get(id);
    if (!d) throw new DrillError('unknown_drill', `没有演练 "${id}" / No drill "${id}"`);
    return structuredClone(d);
  }

  /** Starts a scenario now; its steps due at 00:00 are applied before this returns. */
  async start(name: string, by: string): Promise<Drill> {
    const { scenario: s, estate } = this.startable(name);
    const now = this.opts.clock.now();
    const devices = targets(s);
    const drill = newDrill(s, { id: this.newId(now), now, by, devices, scope: scopeOf(devices, estate) });
    // The drill is current before its first fault goes in, so the first alarm is already tagged.
    const run = new ScenarioRun(s, estate, now);
    this.current = { drill, run, scope: { id: drill.id, scope: new Set(drill.scope) } };
    this.drills.set(drill.id, drill);
    const first = run.advance(now);
    addApplied(drill, first);
    this.trim();
    this.opts.logger?.info(
      { drill: drill.id, scenario: s.name, by },
      `drill ${drill.id} started: ${s.title.en} (${s.title.zh})`,
    );
    await this.record([{ type: 'started', drill: structuredClone(drill) }]);
    return structuredClone(drill);
  }

  /** The scenario and estate a drill of `name` would play, or why none can start now. */
  private startable(name: string): { scenario: Scenario; estate: EstateControl } {
    const running = this.current?.drill;
    if (running) {
      throw new DrillError(
        'drill_running',
        `已有演练在进行：${running.id}（${running.scenario}，${running.startedBy} 发起），请先停止 / A drill is already running: ${running.id} (${running.scenario}, started by ${running.startedBy}); stop it first`,
        { drill: running.id },
      );
    }
    const entry = this.byName.get(name);
    if (!entry) {
      const have = [...this.byName.keys()].sort().join(', ');
      throw new DrillError(
        'unknown_scenario',
        `没有名为 "${name}" 的演练场景 / No scenario "${name}" (have: ${have || 'none'})`,
      );
    }
    const estate = this.opts.estate;
    if (!estate) {
      throw new DrillError(
        'no_estate',
        '此网关没有连接模拟园区，不能演练（演练需在 npm run demo 等带模拟园区的网关上进行） / This gateway runs no simulated estate, so it cannot run drills (they need `npm run demo` or another gateway started with a simulated estate)',
      );
    }
    if (entry.problems?.length) {
      const first = entry.problems[0]!;
      throw new DrillError(
        'scenario_does_not_fit',
        `演练场景 "${name}" 与本园区的设备不符 / Scenario "${name}" does not fit this site: ${first.path}: ${first.message}${entry.problems.length > 1 ? ` (and ${entry.problems.length - 1} more)` : ''}`,
        { problems: this.scenarios().find((s) => s.name === name)!.problems },
      );
    }
    return { scenario: entry.scenario, estate };
  }

  /** Stops the running drill and clears every fault it set. */
  async stop(by: string): Promise<Drill> {
    if (!this.current) throw new DrillError('no_drill_running', '当前没有进行中的演练 / No drill is running');
    return this.end('stopped', by);
  }

  /**
   * Applies the steps that came due and ends the drill when its time is up; returns the
   * steps applied. The caller ticks it (createDrills does, on an interval).
   */
  tick(): AppliedStep[] {
    const cur = this.current;
    if (!cur) return [];
    const now = this.opts.clock.now();
    const applied = cur.run.advance(now);
    if (applied.length) {
      addApplied(cur.drill, applied);
      for (const e of applied) {
        if (e.error)
          this.opts.logger?.warn(
            { drill: cur.drill.id, step: e.step, err: e.error },
            `drill ${cur.drill.id}: ${e.what.en}`,
          );
        else this.opts.logger?.info({ drill: cur.drill.id, step: e.step }, `drill ${cur.drill.id}: ${e.what.en}`);
      }
      void this.record([{ type: 'applied', drillId: cur.drill.id, entries: applied }]);
    }
    if (cur.run.finished) void this.end('completed');
    return applied;
  }

  /** Ends a running drill as interrupted (the gateway is stopping) and lets the owner release what it holds. */
  async close(): Promise<void> {
    if (this.current) await this.end('interrupted');
    await this.opts.onClose?.();
  }

  private async end(status: Exclude<DrillStatus, 'running'>, by?: string): Promise<Drill> {
    const cur = this.current!;
    this.current = undefined;
    const cleared = cur.run.abort();
    const rec: DrillRecord = {
      type: 'ended',
      drillId: cur.drill.id,
      status,
      at: this.opts.clock.now(),
      ...(by ? { by } : {}),
      cleared,
    };
    this.fold(rec);
    this.opts.logger?.info(
      { drill: cur.drill.id, status, by, cleared: cleared.length },
      `drill ${cur.drill.id} ${status}; ${cleared.length} fault(s) cleared`,
    );
    await this.record([rec]);
    return structuredClone(cur.drill);
  }

  private async record(records: DrillRecord[]): Promise<void> {
    if (!this.opts.journal) return;
    try {
      await this.opts.journal.append(records);
    } catch (err) {
      // The drill goes on: losing its journal line is worse for the report than for the drill.
      this.opts.logger?.error({ err }, 'drill journal: could not record');
    }
  }

  /** Folds a journal record of an earlier run (and the live end of a drill) into the history. */
  private fold(r: DrillRecord): void {
    switch (r.type) {
      case 'started':
        this.drills.set(r.drill.id, structuredClone(r.drill));
        break;
      case 'applied': {
        const d = this.drills.get(r.drillId);
        if (d) addApplied(d, r.entries);
        break;
      }
      case 'ended': {
        const d = this.drills.get(r.drillId);
        if (!d) break;
        d.status = r.status;
        d.endedAt = r.at;
        if (r.by) d.endedBy = r.by;
        d.cleared = r.cleared;
        break;
      }
    }
    this.trim();
  }

  private trim(): void {
    if (this.drills.size <= HISTORY_KEPT) return;
    const old = [...this.drills.values()]
      .filter((d) => d.status !== 'running')
      .sort((a, b) => a.startedAt - b.startedAt);
    for (const d of old.slice(0, this.drills.size - HISTORY_KEPT)) this.drills.delete(d.id);
  }

  /** "drill-20261122-100000": the local start time, unique across restarts (the alarm journal keeps these ids). */
  private newId(now: number): string {
    const w = wallTime(now, this.opts.timeZone ?? 'Asia/Shanghai');
    const two = (n: number) => String(n).padStart(2, '0');
    const base = `drill-${w.year}${two(w.month)}${two(w.day)}-${two(w.hour)}${two(w.minute)}${two(w.second)}`;
    let id = base;
    for (let n = 2; this.drills.has(id); n++) id = `${base}-${n}`;
    return id;
  }
}

/** A drill of scenario `s` starting now: running, nothing applied yet, every expectation not yet due. */
function newDrill(s: Scenario, at: { id: string; now: number; by: string; devices: string[]; scope: string[] }): Drill {
  const { id, now, by, devices, scope } = at;
  return {
    id,
    scenario: s.name,
    title: s.title,
    status: 'running',
    startedAt: now,
    startedBy: by,
    endsAt: now + s.duration * 1000,
    devices,
    scope,
    log: [],
    cleared: [],
    expects: {
      alarms: s.expects.alarms.map((a) => ({ ...a, dueBy: null })),
      playbooks: [...s.expects.playbooks],
      readings: s.expects.readings.map((r) => ({ ...r, dueBy: null })),
    },
  };
}

function addApplied(d: Drill, entries: readonly AppliedStep[]): void {
  for (const e of entries) {
    d.log.push(e);
    if (e.error) continue;
    for (const x of [...d.expects.alarms, ...d.expects.readings])
      if (x.afterStep === e.step) x.dueBy = e.at + x.within * 1000;
  }
}

/** The devices a drill acts on and, down the feeder tree, everything they power. */
export function scopeOf(devices: readonly string[], estate: EstateControl): string[] {
  const children = new Map<string, string[]>();
  for (const d of estate.devices()) if (d.feeder) children.set(d.feeder, [...(children.get(d.feeder) ?? []), d.id]);
  const out = new Set<string>();
  const visit = (id: string) => {
    if (out.has(id)) return;
    out.add(id);
    for (const c of children.get(id) ?? []) visit(c);
  };
  devices.forEach(visit);
  return [...out];
}

export { DrillError, type DrillErrorCode } from '../../gateway/ports/drills.js';
