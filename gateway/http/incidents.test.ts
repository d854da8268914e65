import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Incident } from '../../rules/incidents/incident.js';
import { API_T0, TOKENS, bearer, json, session, testApi, testSite } from './testing.js';
import { testIncidentRuntime } from '../incidents/runtime.testing.js';
import { ManualClock } from '../ports/manual-clock.js';

const viewer = bearer(TOKENS.dashboard);
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function withIncidents() {
  const clock = new ManualClock(API_T0);
  const incidents = await testIncidentRuntime({
    config: await testSite(),
    clock,
    dir: mkdtempSync(join(tmpdir(), 'api-incidents-')),
  });
  cleanups.push(() => incidents.stop());
  const t = await testApi({ incidents, clock });
  cleanups.push(() => t.app.close());
  return { ...t, clock, incidents, otto: await session(t.app, 'otto') };
}

describe('incident routes', () => {
  it('operators open an incident by hand; viewers read but cannot act', async () => {
    const t = await withIncidents();
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/api/incidents',
          headers: viewer,
          payload: { playbook: 'water_leak' },
        })
      ).statusCode,
    ).toBe(403);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: t.otto,
      payload: { playbook: 'water_leak', building: 'b1', note: '3 楼住户报漏水 resident on floor 3 reports a leak' },
    });
    expect(res.statusCode, res.body).toBe(201);
    const inc = json<Incident>(res);
    expect(inc).toMatchObject({ playbook: 'water_leak', building: 'b1', status: 'open' });
    for (const building of ['b9', '__proto__', 'constructor']) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/incidents',
        headers: t.otto,
        payload: { playbook: 'water_leak', building },
      });
      expect(res.statusCode, building).toBe(400);
      expect(json(res).message).toBe(`body.building: no building "${building}" in this site`);
    }
    const unknown = await t.app.inject({
      method: 'POST',
      url: '/api/incidents',
      headers: t.otto,
      payload: { playbook: 'alien_invasion' },
    });
    expect(unknown.statusCode).toBe(404);
    expect(json(unknown).message).toMatch(/^no playbook "alien_invasion" \(have: /);
    const list = await t.app.inject({ url: '/api/incidents?status=open', headers: viewer });
    expect(json<{ incidents: Incident[] }>(list).incidents.map((i) => i.id)).toEqual([inc.id]);
    expect((await t.app.inject({ url: '/api/incidents/inc-99', headers: viewer })).statusCode).toBe(404);
    const badCmd = await t.app.inject({
      method: 'POST',
      url: `/api/incidents/${inc.id}/commands`,
      headers: t.otto,
      payload: { type: 'dance' },
    });
    expect(badCmd.statusCode).toBe(400);
    const handTo = await t.app.inject({
      method: 'POST',
      url: `/api/incidents/${inc.id}/commands`,
      headers: t.otto,
      payload: { type: 'hand_over', to: 'nobody' },
    });
    expect(json(handTo).message).toBe('body.to: no user "nobody" in this site');
    // One incident, with its timeline in words: who did what, in both languages.
    const one = json<{ incident: Incident; timeline: { type: string; text: { zh: string; en: string } }[] }>(
      await t.app.inject({ url: `/api/incidents/${inc.id}`, headers: viewer }),
    );
    expect(one.incident.id).toBe(inc.id);
    expect(one.timeline.map((e) => e.text.en)).toEqual([
      'opened by Otto',
      'Otto: 3 楼住户报漏水 resident on floor 3 reports a leak',
      'opened: duty manager, engineering manager told at once',
    ]);
    expect(one.timeline[2]!.text.zh).toBe('事件开启，立即通知：值班经理、工程部经理');
  });

  it('only the owner, a duty manager or an admin closes or hands over a case; others add notes (403 naming the owner); a take-over needs a reason', async () => {
    const t = await withIncidents();
    const max = await session(t.app, 'max');
    const mia = await session(t.app, 'mia');
    const inc = json<Incident>(
      await t.app.inject({
        method: 'POST',
        url: '/api/incidents',
        headers: t.otto,
        payload: { playbook: 'water_leak', building: 'b1' },
      }),
    );
    const cmd = (headers: Record<string, string>, payload: object) =>
      t.app.inject({ method: 'POST', url: `/api/incidents/${inc.id}/commands`, headers, payload });
    expect((await cmd(t.otto, { type: 'acknowledge' })).statusCode).toBe(200);
    expect((await cmd(max, { type: 'note', text: '已关闭总阀 main valve closed' })).statusCode).toBe(200);
    const refused = await cmd(max, { type: 'hand_over', to: 'max' });
    expect(refused.statusCode).toBe(403);
    expect(json(refused)).toMatchObject({ error: 'not_owner', message: expect.stringMatching(/^otto owns incident/) });
    expect((await cmd(max, { type: 'close' })).statusCode).toBe(403);
    const noReason = await cmd(mia, { type: 'hand_over', to: 'max' });
    expect(noReason.statusCode).toBe(400);
    expect(json(noReason).error).toBe('reason_required');
    const taken = json<Incident>(
      await cmd(mia, { type: 'hand_over', to: 'max', note: 'otto 去现场 otto went on site' }),
    );
    expect(taken.owner).toBe('max');
    const one = json<{ timeline: { text: { en: string } }[] }>(
      await t.app.inject({ url: `/api/incidents/${inc.id}`, headers: viewer }),
    );
    expect(one.timeline.map((e) => e.text.en)).toContain(
      'mia (duty manager) moved the case from Otto to max; reason: otto 去现场 otto went on site',
    );
    // People by their display name and duty role, in both languages.
    expect((await cmd(mia, { type: 'note', text: '到场 on site' })).statusCode).toBe(200);
    const all = json<{ timeline: { text: { zh: string; en: string } }[] }>(
      await t.app.inject({ url: `/api/incidents/${inc.id}`, headers: viewer }),
    ).timeline.at(-1)!.text;
    expect(all).toEqual({ zh: 'mia（值班经理）：到场 on site', en: 'mia, duty manager: 到场 on site' });
  });
});
