import type { Incident } from './incident.js';
import type { Playbook } from './playbook.js';

// The shift handover (值班交接, S003): what happened during the shift, and what the next
// shift inherits — open incidents with their owner and how long since someone took them,
// and the steps still to do with their deadlines.

type Text = { zh: string; en: string };

export interface HandoverReport {
  from: number;
  to: number;
  opened: { id: string; title: Text; at: number; building?: string; drill?: string }[];
  closed: { id: string; title: Text; at: number }[];
  open: {
    id: string;
    title: Text;
    building?: string;
    owner?: string;
    /** Minutes since the owner took it; undefined when nobody has. */
    ownedForMin?: number;
    pending: { step: string; title: Text; dueAt?: number; overdue: boolean }[];
    openTasks: { task: string; title: Text }[];
  }[];
}

export function handoverReport(incidents: readonly Incident[], playbookOf: (id: string) => Playbook, from: number, to: number): HandoverReport {
  const inShift = (t: number | undefined) => t !== undefined && t >= from && t < to;
  return {
    from,
    to,
    opened: incidents.filter((i) => inShift(i.raisedAt)).map((i) => ({ id: i.id, title: i.title, at: i.raisedAt, ...(i.building ? { building: i.building } : {}), ...(i.drill ? { drill: i.drill } : {}) })),
    closed: incidents.filter((i) => inShift(i.closedAt)).map((i) => ({ id: i.id, title: i.title, at: i.closedAt! })),
    open: incidents
      .filter((i) => i.status === 'open' && i.raisedAt < to)
      .map((i) => {
        const playbook = playbookOf(i.playbook);
        return {
          id: i.id,
          title: i.title,
          ...(i.building ? { building: i.building } : {}),
          ...(i.owner ? { owner: i.owner } : {}),
          ...(i.acknowledgedAt !== undefined ? { ownedForMin: Math.round((to - i.acknowledgedAt) / 60_000) } : {}),
          pending: playbook.steps
            .filter((s) => i.steps[s.id]?.status !== 'done')
            .map((s) => {
              const dueAt = s.deadline_min !== undefined ? i.raisedAt + s.deadline_min * 60_000 : undefined;
              return { step: s.id, title: s.title, ...(dueAt !== undefined ? { dueAt } : {}), overdue: dueAt !== undefined && dueAt < to };
            }),
          openTasks: Object.entries(i.tasks)
            .filter(([, t]) => !t.done)
            .map(([task, t]) => ({ task, title: t.title })),
        };
      }),
  };
}
