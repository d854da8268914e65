import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AlarmState, BusEvent, IncidentBusEvent, IncidentState } from '../events/schema.js';
import { applyMessage, emptySite, missingRanges, type SiteMessage, type SiteState } from './site-state.js';
import { linkState, siteView } from './site-view.js';

const T0 = Date.parse('2026-12-01T08:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '+00:00');

function alarm(n: number, status: AlarmState['status'], drill: string | null): AlarmState {
  return {
    v: 1,
    site: 'a',
    alarmId: `water_leak:leak-${n}:1`,
    kind: 'water_leak',
    title: { zh: '漏水', en: 'Water leak' },
    severity: 'critical',
    status,
    deviceId: `leak-${n}`,
    place: { text: { zh: '泵房', en: 'Pump room' } },
    drill,
    since: iso(T0),
    reopened: 0,
    evidence: { zh: '湿', en: 'wet' },
    inhibited: false,
    silenced: false,
  };
}

function incident(n: number, drill: string | null, overdue: number): IncidentState {
  return {
    v: 1,
    site: 'a',
    incidentId: `inc-${n}`,
    playbook: 'water_leak',
    title: { zh: '水浸', en: 'Flooding' },
    severity: 'critical',
    status: 'open',
    drill,
    raisedAt: iso(T0),
    alarms: [],
    steps: [],
    tasks: [],
    overdue,
  };
}

/** Event `seq`: alarms and incidents of a few ids, real or drill, some escalated to head office. */
function eventOf(seq: number, pick: number): BusEvent {
  const drill = pick % 3 === 0 ? 'drill-1' : null;
  const envelope = { v: 1 as const, site: 'a', seq, at: iso(T0 + seq * 1000), drill };
  if (pick % 2 === 0)
    return {
      ...envelope,
      source: 'alarm',
      change: 'firing',
      alarm: alarm(pick % 5, pick % 7 === 0 ? 'cleared' : 'firing', drill),
    };
  const e: IncidentBusEvent = {
    ...envelope,
    source: 'incident',
    incidentId: `inc-${pick % 4}`,
    type: pick % 5 === 1 ? 'escalated' : 'note',
    text: { zh: '事件', en: 'event' },
    to: pick % 5 === 1 ? ['head_office'] : [],
    incident: incident(pick % 4, drill, pick % 3),
  };
  return e;
}

const stream = fc
  .array(fc.nat(1000), { minLength: 1, maxLength: 40 })
  .map((picks) => picks.map((p, i) => eventOf(i + 1, p)));

/** A delivery of the stream: any order, some messages twice (QoS 1), received at increasing times. */
const delivery = (events: BusEvent[]) =>
  fc
    .tuple(fc.shuffledSubarray(events, { minLength: events.length }), fc.array(fc.nat(events.length - 1)))
    .chain(([order, dupIdx]) => {
      const all = [...order, ...dupIdx.map((i) => events[i]!)];
      return fc.shuffledSubarray(all, { minLength: all.length });
    })
    .map((msgs) => msgs.map((event, i): SiteMessage => ({ type: 'event', at: T0 + i, event })));

const fold = (msgs: SiteMessage[], max?: number): SiteState =>
  msgs.reduce((s, m) => applyMessage(s, m, max), emptySite('a'));

describe('a site as head office folds it', () => {
  it('converges: any order and duplication of the same events gives the same events, alarms and incidents', () => {
    fc.assert(
      fc.property(
        stream.chain((evs) => fc.tuple(fc.constant(evs), delivery(evs), delivery(evs))),
        ([evs, one, two]) => {
          const a = fold(one);
          const b = fold(two);
          expect(a.events.map((e) => e.seq)).toEqual(evs.map((e) => e.seq));
          expect(b.events).toEqual(a.events);
          const va = siteView(a, T0);
          const vb = siteView(b, T0);
          expect(vb.alarms).toEqual(va.alarms);
          expect(vb.incidents).toEqual(va.incidents);
          expect(vb.toHeadOffice).toEqual(va.toHeadOffice);
          expect(va.missing).toEqual([]);
        },
      ),
    );
  });

  it('a drill never hides a real event: the real alarms and incidents are those of the real events alone', () => {
    fc.assert(
      fc.property(
        stream.chain((evs) => fc.tuple(fc.constant(evs), delivery(evs))),
        ([evs, msgs]) => {
          const all = siteView(fold(msgs), T0);
          const realOnly = siteView(fold(msgs.filter((m) => m.type === 'event' && m.event.drill === null)), T0);
          expect(all.alarms.filter((x) => x.drill === null)).toEqual(realOnly.alarms);
          expect(all.incidents.filter((x) => x.drill === null)).toEqual(realOnly.incidents);
          // Real ones come first on the board.
          const firstDrill = all.alarms.findIndex((x) => x.drill !== null);
          if (firstDrill >= 0) expect(all.alarms.slice(firstDrill).every((x) => x.drill !== null)).toBe(true);
          const escalations = evs.filter((e) => e.source === 'incident' && e.to.includes('head_office'));
          expect(all.toHeadOffice.map((e) => e.seq)).toEqual(escalations.map((e) => e.seq));
        },
      ),
    );
  });

  it('shows a gap as missing until it is filled, and not a restart announced by firstSeq', () => {
    fc.assert(
      fc.property(stream, fc.integer({ min: 2, max: 40 }), (evs, cut) => {
        fc.pre(cut < evs.length);
        const msgs = evs.map((event, i): SiteMessage => ({ type: 'event', at: T0 + i, event }));
        const without = fold(msgs.filter((_, i) => i !== cut - 1));
        expect(missingRanges(without)).toEqual([{ from: cut, to: cut }]);
        expect(missingRanges(fold(msgs))).toEqual([]);
        // The same jump announced as the first seq of a new run is not a gap.
        const restart: SiteMessage = {
          type: 'status',
          at: T0,
          status: { v: 1, site: 'a', state: 'online', at: iso(T0), firstSeq: cut + 1 },
        };
        expect(missingRanges(applyMessage(without, restart))).toEqual([]);
      }),
    );
  });

  it('keeps at most maxEvents, ignores what falls below them, and still converges', () => {
    fc.assert(
      fc.property(
        stream.chain((evs) => fc.tuple(fc.constant(evs), delivery(evs))),
        fc.integer({ min: 1, max: 10 }),
        ([evs, msgs], max) => {
          const s = fold(msgs, max);
          expect(s.events.length).toBeLessThanOrEqual(max);
          const seqs = s.events.map((e) => e.seq);
          expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
          expect(new Set(seqs).size).toBe(seqs.length);
          // In order, the last `max` are kept.
          const inOrder = fold(
            evs.map((event, i) => ({ type: 'event', at: T0 + i, event })),
            max,
          );
          expect(inOrder.events.map((e) => e.seq)).toEqual(evs.slice(-max).map((e) => e.seq));
        },
      ),
    );
  });
});

describe('the link to a site', () => {
  const heard = applyMessage(emptySite('a'), {
    type: 'status',
    at: T0,
    status: { v: 1, site: 'a', state: 'online', at: iso(T0), firstSeq: 1 },
  });

  it('is unknown before anything arrives, reachable once the site is online', () => {
    expect(linkState(emptySite('a'), T0)).toEqual({ state: 'unknown' });
    expect(linkState(heard, T0).state).toBe('reachable');
  });

  it('is unreachable since the bridge said 0, and reachable again when it says 1', () => {
    const cut = applyMessage(heard, { type: 'bridge', at: T0 + 5000, up: false });
    expect(linkState(cut, T0 + 9000)).toEqual({ state: 'unreachable', since: T0 + 5000, why: 'bridge_down' });
    // The retained 0 again does not move the time it began.
    const again = applyMessage(cut, { type: 'bridge', at: T0 + 8000, up: false });
    expect(linkState(again, T0 + 9000)).toMatchObject({ since: T0 + 5000 });
    const back = applyMessage(again, { type: 'bridge', at: T0 + 10_000, up: true });
    expect(linkState(back, T0 + 11_000)).toEqual({ state: 'reachable', since: T0 + 10_000 });
  });

  it("is unreachable since the site's own offline time", () => {
    const off = applyMessage(heard, {
      type: 'status',
      at: T0 + 60_000,
      status: { v: 1, site: 'a', state: 'offline', at: iso(T0 + 30_000) },
    });
    expect(linkState(off, T0 + 61_000)).toEqual({ state: 'unreachable', since: T0 + 30_000, why: 'site_offline' });
  });

  it('is unreachable after a silence longer than the limit, only when a limit is set', () => {
    expect(linkState(heard, T0 + 120_000).state).toBe('reachable');
    expect(linkState(heard, T0 + 120_000, { silentAfterMs: 60_000 })).toEqual({
      state: 'unreachable',
      since: T0,
      why: 'silent',
    });
    expect(linkState(heard, T0 + 59_000, { silentAfterMs: 60_000 }).state).toBe('reachable');
  });
});
