import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Handover, HandoverEvent, HandoverReport } from '../../rules/incidents/handover.js';
import type { Incident } from '../../rules/incidents/incident.js';
import type { Shift } from '../../rules/incidents/shifts.js';
import { EventLog } from '../files/event-log.js';
import { HandoverDesk } from '../incidents/handovers.js';
import { API_T0, TOKENS, bearer, json, session, testApi, testSite } from './testing.js';
import { testIncidentRuntime } from '../incidents/runtime.testing.js';
import { ManualClock } from '../ports/manual-clock.js';

const viewer = bearer(TOKENS.dashboard);
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

// 2025-01-15 16:00 in Asia/Shanghai (the test site's zone): the day shift, 08:30–18:00.
async function withDesk(dir = mkdtempSync(join(tmpdir(), 'api-handover-')), clock = new ManualClock(API_T0)) {
  const config = await testSite();
  const incidents = await testIncidentRuntime({ config, clock, dir });
  const handovers = new HandoverDesk({
    log: new EventLog<HandoverEvent>(join(dir, 'handovers.jsonl')),
    incidents,
    rota: config.shifts,
    timeZone: config.site.timezone,
    now: () => clock.now(),
  });
  await handovers.start();
  const t = await testApi({ incidents, handovers, clock });
  const stop = async () => {
    await t.app.close();
    await handovers.stop();
    await incidents.stop();
  };
  cleanups.push(stop);
  return {
    ...t,
    dir,
    clock,
    incidents,
    handovers,
    stop,
    otto: await session(t.app, 'otto'),
    max: await session(t.app, 'max'),
    ada: await session(t.app, 'ada'),
  };
}

type Report = HandoverReport & { shift: Shift; handovers: Handover[]; people: { username: string }[] };

describe('shift handover', () => {
  it('reports the current shift by default: 08:30 to now, with its open cases, owners, overdue steps and drills marked', async () => {
    const t = await withDesk();
    const a = json<Incident>(
      await t.app.inject({
        method: 'POST',
        url: '/api/incidents',
        headers: t.otto,
        payload: { playbook: 'trapped_lift', building: 'b1' },
      }),
    );
    await t.app.inject({
      method: 'POST',
      url: `/api/incidents/${a.id}/commands`,
      headers: t.otto,
      payload: { type: 'acknowledge' },
    });
    const drill = await t.incidents.raise('max', 'water_leak', 'b1', undefined, 'drill-7');
    t.clock.advance(90 * 60_000);
    const r = json<Report>(await t.app.inject({ url: '/api/handover', headers: viewer }));
    expect(r.shift).toMatchObject({
      id: 'day',
      name: { zh: '白班', en: 'Day shift' },
      from: Date.parse('2025-01-15T00:30:00Z'),
      to: Date.parse('2025-01-15T10:00:00Z'),
    });
    expect(r.shift.handover).toEqual({
      from: Date.parse('2025-01-15T00:30:00Z'),
      to: Date.parse('2025-01-15T01:00:00Z'),
    });
    expect(r.from).toBe(r.shift.from);
    expect(r.to).toBe(t.clock.now());
    expect(r.open.find((o) => o.id === a.id)).toMatchObject({ owner: 'otto', ownedForMin: 90 });
    expect(
      r.open
        .find((o) => o.id === a.id)!
        .pending.filter((p) => p.overdue)
        .map((p) => p.step),
    ).toEqual(['confirm_location', 'comfort_passengers', 'call_maintenance', 'maintenance_arrived', 'rescue']);
    expect(r.open.find((o) => o.id === drill.id)).toMatchObject({ drill: 'drill-7' });
    expect(r.people.map((p) => p.username)).toEqual(['otto', 'ada', 'max', 'mia']);

    // After 18:00 the default is the night shift, from 18:00.
    t.clock.advance(2.5 * 3_600_000);
    const night = json<Report>(await t.app.inject({ url: '/api/handover', headers: viewer }));
    expect(night.shift).toMatchObject({
      id: 'night',
      from: Date.parse('2025-01-15T10:00:00Z'),
      to: Date.parse('2025-01-16T00:30:00Z'),
    });
    expect(night.opened).toEqual([]);
    const asked = json<Report>(
      await t.app.inject({ url: '/api/handover?from=2025-01-15T00:00:00Z&to=2025-01-15T09:00:00Z', headers: viewer }),
    );
    expect(asked.opened.map((o) => o.id).sort()).toEqual([a.id, drill.id].sort());
    expect(
      (await t.app.inject({ url: '/api/handover?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', headers: viewer }))
        .statusCode,
    ).toBe(400);
  });

  it('the outgoing person keeps the cases until the incoming person confirms; then they move, named on the timeline', async () => {
    const t = await withDesk();
    const a = json<Incident>(
      await t.app.inject({
        method: 'POST',
        url: '/api/incidents',
        headers: t.otto,
        payload: { playbook: 'water_leak', building: 'b1' },
      }),
    );
    await t.app.inject({
      method: 'POST',
      url: `/api/incidents/${a.id}/commands`,
      headers: t.otto,
      payload: { type: 'acknowledge' },
    });
    const drill = await t.incidents.raise('otto', 'power_cut', 'b1', undefined, 'drill-2');
    await t.incidents.command(drill.id, { type: 'acknowledge', by: 'otto' });
    const other = json<Incident>(
      await t.app.inject({
        method: 'POST',
        url: '/api/incidents',
        headers: t.ada,
        payload: { playbook: 'water_leak', building: 'b1' },
      }),
    );
    await t.app.inject({
      method: 'POST',
      url: `/api/incidents/${other.id}/commands`,
      headers: t.ada,
      payload: { type: 'acknowledge' },
    });
    t.clock.advance(2 * 3_600_000); // 18:00: the night shift's handover window

    const res = await t.app.inject({
      method: 'POST',
      url: '/api/handover',
      headers: t.otto,
      payload: { to: 'max', note: 'B1 地下室积水已抽干，待复查 basement pumped dry, check again at 20:00' },
    });
    expect(res.statusCode, res.body).toBe(201);
    const h = json<Handover>(res);
    expect(h).toMatchObject({
      id: 'ho-1',
      from: 'otto',
      to: 'max',
      status: 'pending',
      inWindow: true,
      shift: { id: 'night' },
    });
    expect(h.cases.map((c) => [c.id, c.owner, c.moves, c.drill])).toEqual(
      expect.arrayContaining([
        [a.id, 'otto', true, undefined],
        [drill.id, 'otto', true, 'drill-2'],
        [other.id, 'ada', false, undefined],
      ]),
    );
    expect(h.cases.find((c) => c.id === a.id)!.overdue.length).toBeGreaterThan(0);
    // Not confirmed yet: otto still owns them, and only otto may close or hand them over.
    expect(t.incidents.get(a.id).incident.owner).toBe('otto');
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: `/api/incidents/${a.id}/commands`,
          headers: t.max,
          payload: { type: 'close' },
        })
      ).statusCode,
    ).toBe(403);

    // Misuse, each refused naming the problem and recording nothing.
    const twice = await t.app.inject({ method: 'POST', url: '/api/handover', headers: t.otto, payload: { to: 'ada' } });
    expect([twice.statusCode, json(twice).error]).toEqual([409, 'handover_pending']);
    const self = await t.app.inject({ method: 'POST', url: '/api/handover', headers: t.ada, payload: { to: 'ada' } });
    expect([self.statusCode, json(self).error]).toEqual([400, 'same_person']);
    expect(
      json(await t.app.inject({ method: 'POST', url: '/api/handover', headers: t.otto, payload: { to: 'ghost' } }))
        .message,
    ).toBe('body.to: no user "ghost" in this site');
    const wrong = await t.app.inject({ method: 'POST', url: '/api/handovers/ho-1/confirm', headers: t.ada });
    expect([wrong.statusCode, json(wrong).message]).toEqual([
      403,
      'handover ho-1 is to max: only max confirms taking it over',
    ]);
    expect(
      (await t.app.inject({ method: 'POST', url: '/api/handovers/ho-1/confirm', headers: viewer })).statusCode,
    ).toBe(403);
    expect(
      (await t.app.inject({ method: 'POST', url: '/api/handovers/ho-9/confirm', headers: t.max })).statusCode,
    ).toBe(404);
    expect((await t.app.inject({ method: 'POST', url: '/api/handovers/x/confirm', headers: t.max })).statusCode).toBe(
      400,
    );
    expect((await t.app.inject({ method: 'POST', url: '/api/handovers/ho-1/cancel', headers: t.max })).statusCode).toBe(
      403,
    );

    t.clock.advance(10 * 60_000);
    const ok = await t.app.inject({ method: 'POST', url: '/api/handovers/ho-1/confirm', headers: t.max });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(json<Handover>(ok)).toMatchObject({ status: 'confirmed', confirmedAt: t.clock.now() });
    expect(json<Handover>(ok).handedOver!.sort()).toEqual([a.id, drill.id].sort());
    expect(t.incidents.get(a.id).incident.owner).toBe('max');
    expect(t.incidents.get(other.id).incident.owner).toBe('ada');
    const timeline = json<{ timeline: { text: { en: string } }[] }>(
      await t.app.inject({ url: `/api/incidents/${a.id}`, headers: viewer }),
    ).timeline.map((e) => e.text.en);
    expect(
      timeline.some(
        (e) => e.includes('handed over from Otto to max') && e.includes('shift handover ho-1, confirmed by max'),
      ),
    ).toBe(true);
    const again = await t.app.inject({ method: 'POST', url: '/api/handovers/ho-1/confirm', headers: t.max });
    expect([again.statusCode, json(again).error]).toEqual([409, 'not_pending']);

    // Kept on disk: a restart reads back the same record; the next one is numbered after it.
    await t.stop();
    const back = await withDesk(t.dir, t.clock);
    expect(json<Handover>(await back.app.inject({ url: '/api/handovers/ho-1', headers: viewer }))).toMatchObject({
      status: 'confirmed',
      from: 'otto',
      to: 'max',
    });
    const next = json<Handover>(
      await back.app.inject({ method: 'POST', url: '/api/handover', headers: back.max, payload: { to: 'otto' } }),
    );
    expect(next).toMatchObject({
      id: 'ho-2',
      cases: expect.arrayContaining([expect.objectContaining({ id: a.id, owner: 'max', moves: true })]),
    });
    expect(
      json<Handover>(await back.app.inject({ method: 'POST', url: '/api/handovers/ho-2/cancel', headers: back.max })),
    ).toMatchObject({ status: 'cancelled' });
    expect(back.incidents.get(a.id).incident.owner).toBe('max');
  });

  it('prints a handover sheet in both languages with the cases, drills marked, and lines to sign', async () => {
    const t = await withDesk();
    const a = json<Incident>(
      await t.app.inject({
        method: 'POST',
        url: '/api/incidents',
        headers: t.otto,
        payload: { playbook: 'water_leak', building: 'b1' },
      }),
    );
    await t.app.inject({
      method: 'POST',
      url: `/api/incidents/${a.id}/commands`,
      headers: t.otto,
      payload: { type: 'acknowledge' },
    });
    await t.incidents.raise('otto', 'power_cut', 'b1', undefined, 'drill-2');
    t.clock.advance(3 * 3_600_000); // 19:00, outside the 18:00–18:30 window
    await t.app.inject({
      method: 'POST',
      url: '/api/handover',
      headers: t.otto,
      payload: { to: 'max', note: '<b>泵房</b> pump room' },
    });
    const sheet = await t.app.inject({ url: '/api/handovers/ho-1/sheet', headers: viewer });
    expect(sheet.headers['content-type']).toMatch(/^text\/html/);
    const body = sheet.body;
    expect(body).toContain('值班交接记录 Shift handover · ho-1');
    expect(body).toMatch(/data-field="shift">夜班 \/ Night shift · 2025-01-15 18:00:00 – 2025-01-16 08:30:00/);
    expect(body).toContain('data-field="from">Otto (otto)');
    expect(body).toContain('不在交接时段内 outside the handover window');
    expect(body).toContain('&lt;b&gt;泵房&lt;/b&gt; pump room');
    expect(body).toContain('待接班人确认 waiting for the incoming person to confirm');
    expect(body.match(/演练 DRILL/g)?.length).toBeGreaterThanOrEqual(1);
    expect(body).toContain('data-testid="signoff"');
    expect(body).toContain('接班人 Incoming</th><td>签名 Signature');
    expect((await t.app.inject({ url: '/api/handovers/ho-5/sheet', headers: viewer })).statusCode).toBe(404);
  });
});
