import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlarmView } from '../../rules/engine.js';
import { AlarmJournal } from '../alarms/journal.js';
import { AlarmRuntime } from '../alarms/runtime.js';
import { SilenceBook } from '../alarms/silences.js';
import { API_T0, TOKENS, bearer, json, session, testApi, testSite } from './testing.js';
import { ManualClock } from '../ports/manual-clock.js';

const viewer = bearer(TOKENS.dashboard);
const operator = bearer(TOKENS.meterbot);
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The API with a real alarm runtime on a temp journal; a trapped lift and a wet sensor in b2. */
async function withAlarms() {
  const clock = new ManualClock(API_T0);
  const dir = mkdtempSync(join(tmpdir(), 'api-alarms-'));
  const link = { down: undefined as string | undefined };
  const alarms = new AlarmRuntime({
    config: await testSite(),
    clock,
    journal: new AlarmJournal(join(dir, 'a.jsonl')),
    silences: new SilenceBook(join(dir, 'silences.json')),
    linkDown: () => link.down,
    logger: pino({ level: 'silent' }),
    tickMs: 60_000,
  });
  await alarms.start();
  cleanups.push(() => alarms.stop());
  const t = await testApi({ alarms, clock });
  cleanups.push(() => t.app.close());
  const raise = async () => {
    alarms.observe({
      deviceId: 'lift-a',
      kind: 'lift',
      ts: clock.now(),
      fields: { alarm_button: true, direction: 'stopped', mode: 'normal' },
      quality: 'good',
    });
    alarms.observe({
      deviceId: 'leak-b2',
      kind: 'leak_sensor',
      ts: clock.now(),
      fields: { wet: true },
      quality: 'good',
    });
    await alarms.settled();
    clock.advance(5000);
    await alarms.settled();
  };
  return { ...t, clock, alarms, raise, dir, link };
}

describe('alarm routes', () => {
  it('lists active alarms with filters, for viewers', async () => {
    const t = await withAlarms();
    await t.raise();
    const all = await t.app.inject({ url: '/api/alarms', headers: viewer });
    expect(all.statusCode).toBe(200);
    expect(
      json<{ alarms: AlarmView[] }>(all)
        .alarms.map((a) => a.kind)
        .sort(),
    ).toEqual(['lift_entrapment', 'water_leak']);
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
    const res = await t.app.inject({
      method: 'POST',
      url,
      headers: await session(t.app, 'otto'),
      payload: { comment: '已派人 on the way' },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(json<AlarmView>(res).ack).toEqual({ by: 'otto', at: t.clock.now(), comment: '已派人 on the way' });
    const again = await t.app.inject({
      method: 'GET',
      url: `/api/alarms/${encodeURIComponent(lift!.id)}`,
      headers: viewer,
    });
    expect(json<AlarmView>(again).ack?.by).toBe('otto');
    const missing = await t.app.inject({ method: 'POST', url: '/api/alarms/nope/ack', headers: operator, payload: {} });
    expect(missing.statusCode).toBe(404);
    expect(json(missing).message).toBe('no alarm "nope"');
  });

  it('takes comments on an open alarm, in order, with who', async () => {
    const t = await withAlarms();
    await t.raise();
    const [leak] = t.alarms.list({ building: 'b2' });
    const url = `/api/alarms/${encodeURIComponent(leak!.id)}/comments`;
    await t.app.inject({ method: 'POST', url, headers: operator, payload: { text: '保安已到场 security on site' } });
    const res = await t.app.inject({
      method: 'POST',
      url,
      headers: operator,
      payload: { text: '关闭阀门 valve closed' },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(json<AlarmView>(res).comments?.map((c) => `${c.by}: ${c.text}`)).toEqual([
      'meterbot: 保安已到场 security on site',
      'meterbot: 关闭阀门 valve closed',
    ]);
    const empty = await t.app.inject({ method: 'POST', url, headers: operator, payload: { text: '  ' } });
    expect(empty.statusCode).toBe(400);
    expect(json(empty).message).toBe('body.text: write something');
  });

  it('silences and maintenance windows mute but never hide, survive a restart, and never touch a trapped lift', async () => {
    const t = await withAlarms();
    const add = (payload: object) => t.app.inject({ method: 'POST', url: '/api/silences', headers: operator, payload });
    const b2 = await add({
      match: { building: 'b2' },
      reason: '水泵房维保 pump room maintenance',
      minutes: 60,
      maintenance: true,
    });
    expect(b2.statusCode, b2.body).toBe(201);
    expect(json(b2)).toMatchObject({
      id: 'silence-1',
      by: 'meterbot',
      maintenance: true,
      until: t.clock.now() + 3_600_000,
    });
    expect((await add({ match: { deviceId: 'lift-a' }, reason: 'test', minutes: 60 })).statusCode).toBe(201);
    expect(json(await add({ match: {}, reason: 'everything', minutes: 5 })).message).toMatch(
      /^body\.match: name a device, a building or an alarm kind/,
    );
    expect((await add({ match: { building: 'b1' }, reason: 'too long', minutes: 8 * 24 * 60 })).statusCode).toBe(400);
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/api/silences',
          headers: viewer,
          payload: { match: { building: 'b1' }, reason: 'x', minutes: 5 },
        })
      ).statusCode,
    ).toBe(403);
    // A silence of a building or device the site does not have would silence nothing, quietly: 400 naming it.
    expect(json(await add({ match: { building: 'b9' }, reason: 'x', minutes: 5 }))).toMatchObject({
      message: 'body.match.building: no building "b9" in this site',
    });
    expect(json(await add({ match: { deviceId: '__proto__' }, reason: 'x', minutes: 5 }))).toMatchObject({
      message: 'body.match.deviceId: no device "__proto__" in this site',
    });

    await t.raise();
    const list = json<{ alarms: AlarmView[] }>(await t.app.inject({ url: '/api/alarms', headers: viewer })).alarms;
    expect(list.find((a) => a.deviceId === 'leak-b2')!.silencedBy).toMatchObject({
      id: 'silence-1',
      reason: '水泵房维保 pump room maintenance',
    });
    expect(list.find((a) => a.deviceId === 'lift-a')!.silencedBy).toBeUndefined();

    const book = new SilenceBook(join(t.dir, 'silences.json'));
    await book.load(t.clock.now());
    expect(book.list(t.clock.now()).map((s) => s.id)).toEqual(['silence-1', 'silence-2']);
    expect(
      (await t.app.inject({ method: 'DELETE', url: '/api/silences/silence-1', headers: operator })).statusCode,
    ).toBe(204);
    expect(
      (await t.app.inject({ method: 'DELETE', url: '/api/silences/silence-1', headers: operator })).statusCode,
    ).toBe(404);
    expect(
      json<{ silences: { id: string }[] }>(await t.app.inject({ url: '/api/silences', headers: viewer })).silences.map(
        (s) => s.id,
      ),
    ).toEqual(['silence-2']);
  });

  it('tells "device offline" apart from "the gateway lost its link"', async () => {
    const t = await withAlarms();
    t.clock.advance(10 * 60_000); // every test device silent for 10 minutes
    await t.alarms.settled();
    expect(t.alarms.list().filter((a) => a.kind === 'device_offline' && !a.inhibitedBy)).toHaveLength(4);
    t.link.down = 'the gateway is not connected to the MQTT broker';
    const offline = t.alarms.list().filter((a) => a.kind === 'device_offline');
    expect(offline.map((a) => a.inhibitedBy)).toEqual(
      Array(4).fill({ link: 'the gateway is not connected to the MQTT broker' }),
    );
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
    expect(
      [...text.matchAll(/id: (\d+)\nevent: alarm\ndata: (.*)\n/g)].map(
        (m) => `${m[1]} ${(JSON.parse(m[2]!) as { type: string }).type}`,
      ),
    ).toEqual(['1 pending', '2 firing', '3 pending', '4 firing']); // lift at once, leak after 5 s
    const resumed = await read({ 'last-event-id': '2' }, (s) => (s.match(/event: alarm/g) ?? []).length >= 2);
    expect([...(await resumed.text()).matchAll(/id: (\d+)/g)].map((m) => m[1])).toEqual(['3', '4']);
  });
});
