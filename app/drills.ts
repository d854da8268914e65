import { every, type Clock, type Timers } from '../gateway/ports/clock.js';
import { EventLog } from '../gateway/files/event-log.js';
import { loadPlaybooks } from '../gateway/incidents/playbooks.js';
import type { EstateControl } from '../simulators/estate/types.js';
import { fitProblems, loadScenarios, SCENARIOS_DIR } from '../simulators/scenarios/load.js';
import type { ScenarioSite } from '../simulators/scenarios/schema.js';
import { DrillController, type DrillLogger, type DrillRecord } from '../simulators/drill/controller.js';

export interface CreateDrillsOptions {
  /** The simulated estate the gateway reads; without one, drills are listed but cannot start (503). */
  estate?: EstateControl;
  /** The clock the estate runs on (the demo's ScaledClock). */
  clock: Clock;
  /** Folder of scenario files (default simulators/scenarios). */
  scenariosDir?: string;
  /** site.id and site.timezone of the site file: scenarios written for another site are listed as not fitting. */
  site?: { id: string; timezone?: string };
  /** Drill journal (JSON lines, fsynced): e.g. `<data_dir>/drills/journal.jsonl`. Without it the history lives in memory. */
  journalFile?: string;
  logger?: DrillLogger;
  /** Real ms between ticks (default 200); 0 leaves ticking to the caller (`controller.tick()`). */
  tickMs?: number;
  /** The timers that tick it (real ones in the programs; the ticks never keep a process alive by themselves). */
  timers: Timers;
}

/**
 * The drill controller for a gateway with a simulated estate: loads and checks the scenarios
 * against the estate's devices and the playbooks, restores the history from the journal,
 * and ticks itself. `close()` ends a running drill (as interrupted) and releases the rest.
 */
export async function createDrills(opts: CreateDrillsOptions): Promise<DrillController> {
  const playbooks = loadPlaybooks();
  const scenarios = checkedScenarios(opts, playbooks);
  const { journal, past } = await openJournal(opts);
  let stopTicking: (() => void) | undefined;
  const controller = new DrillController({
    scenarios,
    ...(opts.estate ? { estate: opts.estate } : {}),
    clock: opts.clock,
    ...(opts.site?.timezone ? { timeZone: opts.site.timezone } : {}),
    ...(journal ? { journal } : {}),
    past,
    playbookTitle: (id) => playbooks.byId.get(id)?.title,
    ...(opts.logger ? { logger: opts.logger } : {}),
    onClose: async () => {
      stopTicking?.();
      await journal?.close();
    },
  });
  await controller.recover();
  const tickMs = opts.tickMs ?? 200;
  if (tickMs > 0) {
    const tick = () => {
      try {
        controller.tick();
      } catch (err) {
        opts.logger?.error({ err }, 'drill tick failed');
      }
    };
    stopTicking = every(opts.timers, tickMs, tick, { background: true });
  }
  return controller;
}

/** The scenario files, each checked against the estate's devices and the playbooks (what does not fit is logged). */
function checkedScenarios(opts: CreateDrillsOptions, playbooks: ReturnType<typeof loadPlaybooks>) {
  const site: ScenarioSite | undefined = opts.estate && {
    ...(opts.site ? { id: opts.site.id } : {}),
    devices: opts.estate.devices(),
    playbooks: { ids: new Set(playbooks.byId.keys()), forKind: (k) => playbooks.forKind(k)?.id },
  };
  const scenarios = loadScenarios(opts.scenariosDir ?? SCENARIOS_DIR).map((l) => ({
    scenario: l.scenario,
    file: l.file,
    problems: site ? fitProblems(l, site) : [],
  }));
  for (const s of scenarios) {
    if (s.problems.length)
      opts.logger?.warn(
        { scenario: s.scenario.name, problems: s.problems.length },
        `drill scenario ${s.scenario.name} does not fit this site: ${s.problems[0]!.path}: ${s.problems[0]!.message}`,
      );
  }
  return scenarios;
}

/** The drill journal and the drills it already holds (none without a journal file). */
async function openJournal(
  opts: CreateDrillsOptions,
): Promise<{ journal: EventLog<DrillRecord> | undefined; past: DrillRecord[] }> {
  if (!opts.journalFile) return { journal: undefined, past: [] };
  const journal = new EventLog<DrillRecord>(opts.journalFile);
  const entries = await journal.open((line, detail) =>
    opts.logger?.warn({ line, detail }, 'drill journal: unreadable line skipped'),
  );
  return { journal, past: entries.map((e) => e.record) };
}
