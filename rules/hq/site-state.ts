import type { AlarmState, BusEvent, IncidentBusEvent, IncidentState, SiteStatus } from '../events/schema.js';

// What head office knows of one site, folded from the messages that reach it through the
// broker cluster: the event stream (deduplicated and ordered by the site's `seq`), the
// retained alarm and incident states, the site's retained status and the bridge's
// notification. Pure: every message comes with the time it was received (`at`, epoch ms).
// Applying any interleaving or duplication of the same messages gives the same state for the
// events (by seq); retained states only fill in what the stream has not said.

export interface SiteState {
  site: string;
  /** The events kept, by seq ascending, at most `maxEvents` (the oldest are dropped first). */
  events: BusEvent[];
  /** Every seq at or below this was dropped from `events` (0: none); such a seq arriving again is ignored. */
  floor: number;
  /** The site's retained alarm and incident states, by id (cleared by an empty retained message). */
  retainedAlarms: Record<string, AlarmState>;
  retainedIncidents: Record<string, IncidentState>;
  /** The site's status and since when (its own time); the first seq of every run seen. */
  status?: { state: SiteStatus['state']; at: number; firstSeqs: number[] };
  bridge?: { up: boolean; at: number };
  /** When anything of the site last arrived. */
  lastHeardAt?: number;
}

export type SiteMessage =
  | { type: 'event'; at: number; event: BusEvent }
  | { type: 'alarm'; at: number; alarmId: string; state: AlarmState | null }
  | { type: 'incident'; at: number; incidentId: string; state: IncidentState | null }
  | { type: 'status'; at: number; status: SiteStatus }
  | { type: 'bridge'; at: number; up: boolean };

export const DEFAULT_MAX_EVENTS = 2000;

export function emptySite(site: string): SiteState {
  return { site, events: [], floor: 0, retainedAlarms: {}, retainedIncidents: {} };
}

/** The state once `m` is applied. */
export function applyMessage(s: SiteState, m: SiteMessage, maxEvents = DEFAULT_MAX_EVENTS): SiteState {
  const heard = { ...s, lastHeardAt: Math.max(s.lastHeardAt ?? m.at, m.at) };
  switch (m.type) {
    case 'event':
      return addEvent(heard, m.event, maxEvents);
    case 'alarm':
      return { ...heard, retainedAlarms: put(s.retainedAlarms, m.alarmId, m.state) };
    case 'incident':
      return { ...heard, retainedIncidents: put(s.retainedIncidents, m.incidentId, m.state) };
    case 'status':
      return { ...heard, status: nextStatus(s.status, m.status) };
    case 'bridge':
      // The bridge's notification is about the link, not a sign of life from the site itself.
      if (s.bridge?.up === m.up) return s;
      return { ...s, bridge: { up: m.up, at: m.at } };
  }
}

function addEvent(s: SiteState, e: BusEvent, maxEvents: number): SiteState {
  if (e.seq <= s.floor) return s;
  const i = lowerBound(s.events, e.seq);
  if (s.events[i]?.seq === e.seq) return s; // a duplicate (QoS 1 delivers at least once)
  const events = [...s.events.slice(0, i), e, ...s.events.slice(i)];
  if (events.length <= maxEvents) return { ...s, events };
  const dropped = events.splice(0, events.length - maxEvents);
  return { ...s, events, floor: dropped[dropped.length - 1]!.seq };
}

function lowerBound(events: BusEvent[], seq: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (events[mid]!.seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function put<T>(map: Record<string, T>, id: string, state: T | null): Record<string, T> {
  const next = { ...map };
  if (state === null) delete next[id];
  else next[id] = state;
  return next;
}

function nextStatus(prev: SiteState['status'], st: SiteStatus): NonNullable<SiteState['status']> {
  const firstSeqs = [...(prev?.firstSeqs ?? [])];
  if (st.firstSeq !== undefined && !firstSeqs.includes(st.firstSeq)) firstSeqs.push(st.firstSeq);
  firstSeqs.sort((a, b) => a - b);
  // The site's own time of the change; a repeat of the same state (a retained message seen
  // again) keeps the time it began.
  const since = prev?.state === st.state ? prev.at : Date.parse(st.at);
  return { state: st.state, at: since, firstSeqs };
}

/** Seq ranges missing between events kept: a jump not explained by a restart (`firstSeq` of an `online`). */
export function missingRanges(s: SiteState): { from: number; to: number }[] {
  const out: { from: number; to: number }[] = [];
  const restarts = new Set(s.status?.firstSeqs ?? []);
  for (let i = 1; i < s.events.length; i++) {
    const prev = s.events[i - 1]!.seq;
    const next = s.events[i]!.seq;
    if (next > prev + 1 && !restarts.has(next)) out.push({ from: prev + 1, to: next - 1 });
  }
  return out;
}

/** The escalations and alerts of the events kept that are addressed to head office, oldest first. */
export function toHeadOffice(s: SiteState): IncidentBusEvent[] {
  return s.events.filter((e): e is IncidentBusEvent => e.source === 'incident' && e.to.includes('head_office'));
}
