import type { AlarmKind } from '../../rules/alarms/kinds.js';
import { applyOverride, playbookSchema, type Playbook, type PlaybookOverride } from '../../rules/incidents/playbook.js';
import { ConfigError } from '../config/load.js';
import { loadDataFiles } from '../data-file.js';
import { projectPath } from '../paths.js';

export const PLAYBOOKS_DIR = projectPath('rules', 'playbooks');

export interface Playbooks {
  byId: ReadonlyMap<string, Playbook>;
  /** The playbook an alarm kind opens, if any. */
  forKind(kind: AlarmKind): Playbook | undefined;
}

/** Loads and checks every playbook (with a site's overrides); an alarm kind may open only one playbook. */
export function loadPlaybooks(dir = PLAYBOOKS_DIR, overrides: Record<string, PlaybookOverride> = {}): Playbooks {
  const byId = new Map<string, Playbook>();
  const byKind = new Map<AlarmKind, Playbook>();
  for (const { file, data: shipped } of loadDataFiles(playbookSchema, dir)) {
    // The site file's check has already refused overrides that do not fit (see site.ts).
    const data = overrides[shipped.id] ? applyOverride(shipped, overrides[shipped.id]!).playbook : shipped;
    if (byId.has(data.id)) throw new ConfigError(file, [{ path: 'id', line: 1, col: 1, message: `playbook "${data.id}" is defined twice` }]);
    byId.set(data.id, data);
    for (const kind of data.opened_by) {
      const other = byKind.get(kind);
      if (other) throw new ConfigError(file, [{ path: 'opened_by', line: 1, col: 1, message: `alarm kind ${kind} already opens playbook "${other.id}"` }]);
      byKind.set(kind, data);
    }
  }
  return { byId, forKind: (kind) => byKind.get(kind) };
}
