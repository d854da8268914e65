import type { AlarmKind } from '../../rules/alarms/kinds.js';
import {
  applyOverride,
  evidenceConditionSchema,
  playbookSchema,
  unknownConditions,
  type EvidenceCondition,
  type Playbook,
  type PlaybookOverride,
  type PlaybookSet,
} from '../../rules/incidents/playbook.js';
import { ConfigError } from '../config/load.js';
import { loadDataFiles } from '../files/data-file.js';
import { projectPath } from '../files/paths.js';

export const PLAYBOOKS_DIR = projectPath('rules', 'playbooks');
export const EVIDENCE_DIR = projectPath('rules', 'evidence');

export type Playbooks = PlaybookSet;

/** Every evidence condition (rules/evidence/*.yaml), by id. */
export function loadEvidenceConditions(dir = EVIDENCE_DIR): Map<string, EvidenceCondition> {
  const out = new Map<string, EvidenceCondition>();
  for (const { file, data } of loadDataFiles(evidenceConditionSchema, dir)) {
    if (out.has(data.id))
      throw new ConfigError(file, [
        { path: 'id', line: 1, col: 1, message: `evidence condition "${data.id}" is defined twice` },
      ]);
    out.set(data.id, data);
  }
  return out;
}

/** Loads and checks every playbook (with a site's overrides) and the conditions they name; an alarm kind may open only one playbook. */
export function loadPlaybooks(
  dir = PLAYBOOKS_DIR,
  overrides: Record<string, PlaybookOverride> = {},
  evidenceDir = EVIDENCE_DIR,
): Playbooks {
  const conditions = loadEvidenceConditions(evidenceDir);
  const byId = new Map<string, Playbook>();
  const byKind = new Map<AlarmKind, Playbook>();
  for (const { file, data: shipped } of loadDataFiles(playbookSchema, dir)) {
    // The site file's check has already refused overrides that do not fit (see site.ts).
    const data = overrides[shipped.id] ? applyOverride(shipped, overrides[shipped.id]!).playbook : shipped;
    if (byId.has(data.id))
      throw new ConfigError(file, [{ path: 'id', line: 1, col: 1, message: `playbook "${data.id}" is defined twice` }]);
    const unknown = unknownConditions(data, conditions);
    if (unknown.length) {
      throw new ConfigError(
        file,
        unknown.map((u) => ({
          path: u.path.join('.'),
          line: 1,
          col: 1,
          message: `no evidence condition "${u.name}" (have: ${[...conditions.keys()].join(', ')})`,
        })),
      );
    }
    byId.set(data.id, data);
    for (const kind of data.opened_by) {
      const other = byKind.get(kind);
      if (other)
        throw new ConfigError(file, [
          { path: 'opened_by', line: 1, col: 1, message: `alarm kind ${kind} already opens playbook "${other.id}"` },
        ]);
      byKind.set(kind, data);
    }
  }
  return { byId, forKind: (kind) => byKind.get(kind), conditions };
}
