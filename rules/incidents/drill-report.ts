import type { Incident } from './incident.js';
import type { Playbook } from './playbook.js';

// The drill report: what was injected and when (planned against actual), whether each
// expected alarm came in time, and how the duty room answered — every playbook step of the
// drill's incidents against its target (DOMAIN.md §4: drills are scored per step, planned vs
// actual). Built from plain records so it reads the same live (the scorecard) and at the end.

type Text = { zh: string; en: string };

export interface DrillFacts {
  id: string;
  scenario: string;
  title: Text;
  status: string;
  startedAt: number;
  endedAt?: number;
  startedBy: string;
  log: { at: number; plannedAt: number; what: Text }[];
  expects: { alarms: { kind: string; device: string; dueBy: number | null }[] };
}

export interface DrillReport extends Pick<DrillFacts, 'id' | 'scenario' | 'title' | 'status' | 'startedAt' | 'endedAt' | 'startedBy'> {
  injected: { at: number; lateS: number; what: Text }[];
  alarms: { kind: string; device: string; dueBy: number | null; raisedAt: number | null; met: boolean | null }[];
  responses: { incident: string; playbook: string; step: string; title: Text; targetMin?: number; doneAfterMin?: number; by?: string; met: boolean | null }[];
  score: { alarmsInTime: number; alarmsExpected: number; stepsOnTime: number; stepsWithTarget: number };
}

/**
 * `raised`: when each (kind, device) alarm of this drill first fired. `met` is null while the
 * outcome is still open (not due yet, or not done and not late).
 */
export function drillReport(drill: DrillFacts, raised: ReadonlyMap<string, number>, incidents: readonly Incident[], playbookOf: (id: string) => Playbook | undefined, now: number): DrillReport {
  const alarms = drill.expects.alarms.map((e) => {
    const raisedAt = raised.get(`${e.kind}|${e.device}`) ?? null;
    const met = raisedAt !== null ? e.dueBy === null || raisedAt <= e.dueBy : e.dueBy !== null && now > e.dueBy ? false : null;
    return { kind: e.kind, device: e.device, dueBy: e.dueBy, raisedAt, met };
  });
  const responses: DrillReport['responses'] = [];
  for (const inc of incidents.filter((i) => i.drill === drill.id)) {
    const playbook = playbookOf(inc.playbook);
    for (const s of playbook?.steps ?? []) {
      const st = inc.steps[s.id];
      const doneAfterMin = st?.doneAt !== undefined ? Math.round((st.doneAt - inc.raisedAt) / 6000) / 10 : undefined;
      // A drill's incidents close when it ends: a step still open then was missed then, not later.
      const late = s.deadline_min !== undefined && (doneAfterMin ?? ((inc.closedAt ?? now) - inc.raisedAt) / 60_000) > s.deadline_min;
      responses.push({
        incident: inc.id,
        playbook: inc.playbook,
        step: s.id,
        title: s.title,
        ...(s.deadline_min !== undefined ? { targetMin: s.deadline_min } : {}),
        ...(doneAfterMin !== undefined ? { doneAfterMin } : {}),
        ...(st?.by ? { by: st.by } : {}),
        met: s.deadline_min === undefined ? null : late ? false : doneAfterMin !== undefined ? true : null,
      });
    }
  }
  return {
    id: drill.id,
    scenario: drill.scenario,
    title: drill.title,
    status: drill.status,
    startedAt: drill.startedAt,
    ...(drill.endedAt !== undefined ? { endedAt: drill.endedAt } : {}),
    startedBy: drill.startedBy,
    injected: drill.log.map((l) => ({ at: l.at, lateS: Math.round((l.at - l.plannedAt) / 1000), what: l.what })),
    alarms,
    responses,
    score: {
      alarmsInTime: alarms.filter((a) => a.met === true).length,
      alarmsExpected: alarms.length,
      stepsOnTime: responses.filter((r) => r.met === true).length,
      stepsWithTarget: responses.filter((r) => r.targetMin !== undefined).length,
    },
  };
}
