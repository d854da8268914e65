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
    drill?: string;
    owner?: string;
    /** Minutes since the owner took it; undefined when nobody has. */
    ownedForMin?: number;
    pending: { step: string; title: Text; dueAt?: number; overdue: boolean }[];
    openTasks: { task: string; title: Text }[];
  }[];
}

export function handoverReport(
  incidents: readonly Incident[],
  playbookOf: (id: string) => Playbook,
  from: number,
  to: number,
): HandoverReport {
  const inShift = (t: number | undefined) => t !== undefined && t >= from && t < to;
  return {
    from,
    to,
    opened: incidents
      .filter((i) => inShift(i.raisedAt))
      .map((i) => ({
        id: i.id,
        title: i.title,
        at: i.raisedAt,
        ...(i.building ? { building: i.building } : {}),
        ...(i.drill ? { drill: i.drill } : {}),
      })),
    closed: incidents.filter((i) => inShift(i.closedAt)).map((i) => ({ id: i.id, title: i.title, at: i.closedAt! })),
    open: incidents
      .filter((i) => i.status === 'open' && i.raisedAt < to)
      .map((i) => {
        const playbook = playbookOf(i.playbook);
        return {
          id: i.id,
          title: i.title,
          ...(i.building ? { building: i.building } : {}),
          ...(i.drill ? { drill: i.drill } : {}),
          ...(i.owner ? { owner: i.owner } : {}),
          ...(i.acknowledgedAt !== undefined ? { ownedForMin: Math.round((to - i.acknowledgedAt) / 60_000) } : {}),
          pending: playbook.steps
            .filter((s) => i.steps[s.id]?.status !== 'done')
            .map((s) => {
              const dueAt = s.deadline_min !== undefined ? i.raisedAt + s.deadline_min * 60_000 : undefined;
              return {
                step: s.id,
                title: s.title,
                ...(dueAt !== undefined ? { dueAt } : {}),
                overdue: dueAt !== undefined && dueAt < to,
              };
            }),
          openTasks: Object.entries(i.tasks)
            .filter(([, t]) => !t.done)
            .map(([task, t]) => ({ task, title: t.title })),
        };
      }),
  };
}

// ---- The handover itself (S003 §3.6, §4.8–4.9): the outgoing person records it with a note and
// what the next shift inherits; the incoming person confirms it; until then the outgoing person
// stays on duty and keeps every case they own. A record, kept apart from the incidents (it spans
// them), as a fold of its events like an incident.

export interface HandoverCase {
  id: string;
  title: Text;
  building?: string;
  /** A drill's case, marked so on the sheet: it is not a real event. */
  drill?: string;
  owner?: string;
  /** Owned by the outgoing person: it moves to the incoming person when they confirm. */
  moves: boolean;
  overdue: { step: string; title: Text; dueAt: number }[];
  openTasks: number;
}

export interface Handover {
  id: string;
  shift: { id: string; name: Text; from: number; to: number };
  from: string;
  to: string;
  note?: string;
  at: number;
  /** Recorded within the shift's handover window (08:30–09:00, 18:00–18:30 by default). */
  inWindow: boolean;
  cases: HandoverCase[];
  status: 'pending' | 'confirmed' | 'cancelled';
  confirmedAt?: number;
  cancelledAt?: number;
  /** The cases that moved to the incoming person on confirmation. */
  handedOver?: string[];
}

export type HandoverEvent = { at: number } & (
  | { type: 'handed'; handover: Omit<Handover, 'status' | 'confirmedAt' | 'cancelledAt' | 'handedOver'> }
  | { type: 'confirmed'; id: string; by: string; handedOver: string[] }
  | { type: 'cancelled'; id: string; by: string }
);

export class HandoverError extends Error {
  constructor(
    readonly code:
      'unknown_handover' | 'same_person' | 'handover_pending' | 'not_pending' | 'not_recipient' | 'not_giver',
    message: string,
  ) {
    super(message);
    this.name = 'HandoverError';
  }
}

/** The handovers from their events, in the order recorded. */
export function foldHandovers(events: readonly HandoverEvent[]): Map<string, Handover> {
  const out = new Map<string, Handover>();
  for (const e of events) applyHandover(out, e);
  return out;
}

export function applyHandover(state: Map<string, Handover>, e: HandoverEvent): void {
  if (e.type === 'handed') {
    state.set(e.handover.id, { ...e.handover, status: 'pending' });
    return;
  }
  const h = state.get(e.id);
  if (!h) return;
  if (e.type === 'confirmed') Object.assign(h, { status: 'confirmed', confirmedAt: e.at, handedOver: e.handedOver });
  else Object.assign(h, { status: 'cancelled', cancelledAt: e.at });
}

/** What the next shift inherits: every open case, its owner and its overdue steps. */
export function handoverCases(
  incidents: readonly Incident[],
  playbookOf: (id: string) => Playbook,
  from: string,
  now: number,
): HandoverCase[] {
  return handoverReport(incidents, playbookOf, now, now + 1).open.map((o) => ({
    id: o.id,
    title: o.title,
    ...(o.building ? { building: o.building } : {}),
    ...(o.drill ? { drill: o.drill } : {}),
    ...(o.owner ? { owner: o.owner } : {}),
    moves: o.owner === from,
    overdue: o.pending
      .filter((p) => p.overdue && p.dueAt !== undefined)
      .map((p) => ({ step: p.step, title: p.title, dueAt: p.dueAt! })),
    openTasks: o.openTasks.length,
  }));
}

/** Records a handover, or refuses it (nothing recorded). */
export function handOver(
  state: ReadonlyMap<string, Handover>,
  r: {
    id: string;
    by: string;
    to: string;
    note?: string;
    shift: { id: string; name: Text; from: number; to: number; handover: { from: number; to: number } };
    cases: HandoverCase[];
  },
  now: number,
): HandoverEvent {
  if (r.to === r.by)
    throw new HandoverError('same_person', 'hand over to the person taking the next shift, not to yourself');
  const pending = [...state.values()].find((h) => h.status === 'pending' && h.from === r.by);
  if (pending)
    throw new HandoverError(
      'handover_pending',
      `your handover ${pending.id} to ${pending.to} waits for ${pending.to} to confirm; cancel it first to hand over to someone else`,
    );
  const { handover: window, ...shift } = r.shift;
  return {
    type: 'handed',
    handover: {
      id: r.id,
      shift,
      from: r.by,
      to: r.to,
      ...(r.note ? { note: r.note } : {}),
      at: now,
      inWindow: now >= window.from && now < window.to,
      cases: r.cases,
    },
    at: now,
  };
}

/** The handover `id` waiting for `by` to confirm it. */
export function pendingFor(
  state: ReadonlyMap<string, Handover>,
  id: string,
  by: string,
  as: 'recipient' | 'giver',
): Handover {
  const h = state.get(id);
  if (!h) throw new HandoverError('unknown_handover', `no handover "${id}"`);
  if (h.status !== 'pending') throw new HandoverError('not_pending', `handover ${id} is already ${h.status}`);
  if (as === 'recipient' && h.to !== by)
    throw new HandoverError('not_recipient', `handover ${id} is to ${h.to}: only ${h.to} confirms taking it over`);
  if (as === 'giver' && h.from !== by)
    throw new HandoverError('not_giver', `handover ${id} is ${h.from}'s: only ${h.from} may cancel it`);
  return h;
}
