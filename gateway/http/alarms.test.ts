import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlarmView } from '../../rules/engine.js';
import { AlarmJournal } from '../alarms/journal.js';
import { AlarmRuntime } from '../alarms/runtime.js';
import { FakeClock, TOKENS, bearer, json, loginCookie, testApi, testSite } from './testing.js';

const viewer = bearer(TOKENS.dashboard);
const operator = bearer(TOKENS.meterbot);
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The API with a real alarm runtime on a temp journal; a trapped lift and a wet sensor in b2. */
async function withAlarms() {
  const clock = new FakeClock();
  const alarms = new AlarmRuntime({ config: await testSite(), clock, journal: new AlarmJournal(join(mkdtempSync(join(tmpdir(), 'api-alarms-')), 'a.jsonl')), logger: pino({ level: 'silent' }), tickMs: 60_000 });
  await alarms.start();
  cleanups.push(() => alarms.stop());
  const t = await testApi({ alarms, clock });
  cleanups.push(() => t.app.close());
  const raise = async () => {
    alarms.observe({ deviceId: 'lift-a', kind: 'lift', ts: clock.now(), fields: { alarm_button: true, direction: 'stopped', mode: 'normal' }, quality: 'good' });
    alarms.observe({ deviceId: 'leak-b2', kind: 'leak_sensor', ts: clock.now(), fields: { wet: true }, quality: 'good' });
    await alarms.settled();
    clock.advance(5000);
    await alarms.settled();
  };
  return { ...t, clock, alarms, raise };
}

describe('alarm routes', () => {
  it('lists active alarms with filters, for viewers', async () => {
    const t = await withAlarms();
    await t.raise();
    const all = await t.app.inject({ url: '/api/alarms', headers: viewer });
    expect(all.statusCode).toBe(200);
    expect(json<{ alarms: AlarmView[] }>(all).alarms.map((a) => a.kind).sort()).toEqual(['lift_entrapment', 'water_leak']);
    const b2 = await t.app.inject({ url: '/api/alarms?building=b2&severity=critical', headers: viewer });
    expect(json<{ alarms: AlarmView[] }>(b2).alarms.map((a) => a.deviceId)).toEqual(['leak-b2']);
    const bad = await t.app.inject({ url: '/api/alarms?severity=urgent', headers: viewer });
    expect(bad.statusCode).toBe(400);
    expect(json(bad).message).toMatch(/^querystring\.severity: /);
    expect((await t.app.inject({ url: '/api/alarms' })).statusCode).toBe(401);
  });

  it('acknowledges with who and a comment: operators only; 404 for an unknown alarm', async () => {
    const t = await withAlarms();
    await t.raise();
    const [lift] = t.alarms.list({ building: 'b1' });
    const url = `/api/alarms/${encodeURIComponent(lift!.id)}/ack`;
    expect((await t.app.inject({ method: 'POST', url, headers: viewer, payload: {} })).statusCode).toBe(403);
    const res = await t.app.inject({ method: 'POST', url, headers: { cookie: await loginCookie(t.app, 'otto') }, payload: { comment: '已派人 on the way' } });
    expect(res.statusCode, res.body).toBe(200);
    expect(json<AlarmView>(res).ack).toEqual({ by: 'otto', at: t.clock.now(), comment: '已派人 on the way' });
    const again = await t.app.inject({ method: 'GET', url: `/api/alarms/${encodeURIComponent(lift!.id)}`, headers: viewer });
    expect(json<AlarmView>(again).ack?.by).toBe('otto');
    const missing = await t.app.inject({ method: 'POST', url: '/api/alarms/nope/ack', headers: operator, payload: {} });
    expect(missing.statusCode).toBe(404);
    expect(json(missing).message).toBe('no alarm "nope"');
  });

  it('streams changes as server-sent events and replays what a reconnecting client missed', async () => {
    const t = await withAlarms();
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
    const read = async (headers: Record<string, string>, until: (text: string) => boolean) => {
      const ctl = new AbortController();
      const res = await fetch(`${base}/api/alarms/stream`, { headers: { ...viewer, ...headers }, signal: ctl.signal });
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const reader = res.body!.getReader();
      let text = '';
      return {
        text: async () => {
          while (!until(text)) text += new TextDecoder().decode((await reader.read()).value);
          ctl.abort();
          return text;
        },
      };
    };
    const live = await read({}, (s) => (s.match(/event: alarm/g) ?? []).length >= 4);
    await t.raise();
    const text = await live.text();
    expect([...text.matchAll(/id: (\d+)\nevent: alarm\ndata: (.*)\n/g)].map((m) => `${m[1]} ${(JSON.parse(m[2]!) as { type: string }).type}`)).toEqual(['1 pending', '2 firing', '3 pending', '4 firing']); // lift at once, leak after 5 s
    const resumed = await read({ 'last-event-id': '2' }, (s) => (s.match(/event: alarm/g) ?? []).length >= 2);
    expect([...(await resumed.text()).matchAll(/id: (\d+)/g)].map((m) => m[1])).toEqual(['3', '4']);
  });
});
