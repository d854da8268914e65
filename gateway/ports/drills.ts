import type { DrillFacts } from '../../rules/incidents/drill-report.js';

// Drill mode as the gateway needs it. The simulators implement it (simulators/drill/
// controller.ts) and the programs hand it to the gateway, so the gateway never imports the
// simulators: it knows a drill by the facts it scores and shows, and passes the rest through.

/** A drill as the gateway reads it; the implementation's drills carry more, shown as they are. */
export type Drill = DrillFacts;

/** A scenario as the API lists it; the implementation's carry more, shown as they are. */
export interface ScenarioInfo {
  name: string;
  /** Whether it can run against this gateway's estate; `problems` say why not (file, line). */
  fits: boolean;
  problems: string[];
}

export interface DrillService {
  /** Whether this gateway has a simulated estate to run drills against. */
  available(): boolean;
  scenarios(): ScenarioInfo[];
  status(): { available: boolean; current: Drill | null; history: Drill[] };
  /** Throws DrillError unknown_drill. */
  get(id: string): Drill;
  /** Throws DrillError drill_running, unknown_scenario, no_estate, scenario_does_not_fit. */
  start(scenario: string, by: string): Promise<Drill>;
  /** Throws DrillError no_drill_running. */
  stop(by: string): Promise<Drill>;
}

export type DrillErrorCode =
  'drill_running' | 'no_drill_running' | 'unknown_scenario' | 'unknown_drill' | 'no_estate' | 'scenario_does_not_fit';

const STATUS: Record<DrillErrorCode, number> = {
  drill_running: 409,
  no_drill_running: 409,
  unknown_scenario: 404,
  unknown_drill: 404,
  no_estate: 503,
  scenario_does_not_fit: 422,
};

/** A refusal, with the HTTP status it maps to and a message in both languages. */
export class DrillError extends Error {
  readonly status: number;
  constructor(
    readonly code: DrillErrorCode,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DrillError';
    this.status = STATUS[code];
  }
}
