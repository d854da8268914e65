import { SEVERITIES } from '../alarms/kinds.js';
import type { AlarmState, BusEvent, IncidentState } from '../events/schema.js';
import { missingRanges, toHeadOffice, type SiteState } from './site-state.js';

// One site as the head-office console shows it: is the link up (and since when it is not),
// its open alarms and incidents (drills marked, never hiding a real one), the incidents'
// overdue steps, the escalations addressed to head office, and the events known missing.

export type LinkState =
  | { state: 'unknown' }
  | { state: 'reachable'; since?: number }
  | { state: 'unreachable'; since: number; why: 'bridge_down' | 'site_offline' | 'silent' };

export interface LinkRules {
  /** Unreachable when nothing of the site arrived for this long (ms); undefined: never on silence alone. */
  silentAfterMs?: number;
}

export function linkState(s: SiteState, now: number, rules: LinkRules = {}): LinkState {
  const down: { since: number; why: 'bridge_down' | 'site_offline' | 'silent' }[] = [];
  if (s.bridge && !s.bridge.up) down.push({ since: s.bridge.at, why: 'bridge_down' });
  if (s.status?.state === 'offline') down.push({ since: s.status.at, why: 'site_offline' });
  if (rules.silentAfterMs !== undefined && s.lastHeardAt !== undefined && now - s.lastHeardAt > rules.silentAfterMs)
    down.push({ since: s.lastHeardAt, why: 'silent' });
  if (down.length) {
    const first = down.reduce((a, b) => (b.since < a.since ? b : a));
    return { state: 'unreachable', ...first };
  }
  if (s.bridge?.up) return { state: 'reachable', since: s.bridge.at };
  if (s.status?.state === 'online' || s.lastHeardAt !== undefined) return { state: 'reachable' };
  return { state: 'unknown' };
}

// Keyed by drill and id: whatever a drill publishes, it never replaces a real alarm or incident.
const key = (drill: string | null, id: string) => `${drill ?? ''}\u0000${id}`;

/** Every alarm's latest state: from the stream (highest seq) where it spoke of it, else retained. */
export function currentAlarms(s: SiteState): AlarmState[] {
  const out = new Map<string, AlarmState>();
  for (const a of Object.values(s.retainedAlarms)) out.set(key(a.drill, a.alarmId), a);
  for (const e of s.events) if (e.source === 'alarm') out.set(key(e.alarm.drill, e.alarm.alarmId), e.alarm);
  return [...out.values()];
}

export function currentIncidents(s: SiteState): IncidentState[] {
  const out = new Map<string, IncidentState>();
  for (const i of Object.values(s.retainedIncidents)) out.set(key(i.drill, i.incidentId), i);
  for (const e of s.events) if (e.source === 'incident') out.set(key(e.incident.drill, e.incidentId), e.incident);
  return [...out.values()];
}

export interface SiteView {
  site: string;
  link: LinkState;
  /** Open (not closed) alarms, real before drill, then by severity and time. */
  alarms: AlarmState[];
  /** Open incidents, real before drill, the most overdue first. */
  incidents: IncidentState[];
  toHeadOffice: BusEvent[];
  missing: { from: number; to: number }[];
  lastSeq?: number;
  counts: { realAlarms: number; drillAlarms: number; realIncidents: number; drillIncidents: number; overdue: number };
}

export function siteView(s: SiteState, now: number, rules: LinkRules = {}): SiteView {
  const alarms = currentAlarms(s)
    .filter((a) => a.status !== 'closed')
    .sort(
      (a, b) =>
        Number(a.drill !== null) - Number(b.drill !== null) ||
        SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) ||
        a.since.localeCompare(b.since) ||
        a.alarmId.localeCompare(b.alarmId),
    );
  const incidents = currentIncidents(s)
    .filter((i) => i.status === 'open')
    .sort(
      (a, b) =>
        Number(a.drill !== null) - Number(b.drill !== null) ||
        b.overdue - a.overdue ||
        a.raisedAt.localeCompare(b.raisedAt) ||
        a.incidentId.localeCompare(b.incidentId),
    );
  const real = <T extends { drill: string | null }>(xs: T[]) => xs.filter((x) => x.drill === null).length;
  return {
    site: s.site,
    link: linkState(s, now, rules),
    alarms,
    incidents,
    toHeadOffice: toHeadOffice(s),
    missing: missingRanges(s),
    ...(s.events.length ? { lastSeq: s.events[s.events.length - 1]!.seq } : {}),
    counts: {
      realAlarms: real(alarms),
      drillAlarms: alarms.length - real(alarms),
      realIncidents: real(incidents),
      drillIncidents: incidents.length - real(incidents),
      overdue: incidents.filter((i) => i.drill === null).reduce((n, i) => n + i.overdue, 0),
    },
  };
}
