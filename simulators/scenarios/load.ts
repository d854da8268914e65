import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ConfigError, parseDataFile, projectPath, type ConfigProblem } from '../../gateway/ports/data-files.js';
import { scenarioSchemaFor, type Scenario, type ScenarioSite } from './schema.js';

export const SCENARIOS_DIR = projectPath('simulators', 'scenarios');

export interface LoadedScenario {
  file: string;
  /** Kept so that problems found later (against a site) can still be located by line. */
  text: string;
  scenario: Scenario;
}

/** One scenario file; a problem anywhere (shape, timeline, and against `site` when given) is a ConfigError with its line. */
export function parseScenarioFile(text: string, file: string, site?: ScenarioSite): Scenario {
  return parseDataFile(
    scenarioSchemaFor({ fileName: basename(file).replace(/\.ya?ml$/, ''), ...(site ? { site } : {}) }),
    text,
    file,
  );
}

/** Every `*.yaml` of the folder, in name order; a malformed one throws (a bug in the shipped data, not a drill problem). */
export function loadScenarios(dir = SCENARIOS_DIR): LoadedScenario[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const file = join(dir, f);
      const text = readFileSync(file, 'utf8');
      return { file, text, scenario: parseScenarioFile(text, file) };
    });
}

/** Where a scenario does not fit a site (unknown devices, faults or alarms that do not fit them), each with its line; [] when it fits. */
export function fitProblems(loaded: LoadedScenario, site: ScenarioSite): ConfigProblem[] {
  try {
    parseScenarioFile(loaded.text, loaded.file, site);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}
