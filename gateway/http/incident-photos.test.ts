import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Incident } from '../../rules/incidents/incident.js';
import { PHOTO_MAX_BYTES, PhotoStore } from '../incidents/photos.js';
import { PNG } from '../incidents/photos.testing.js';
import { API_T0, TOKENS, bearer, json, session, testApi, testSite } from './testing.js';
import { testIncidentRuntime } from '../incidents/runtime.testing.js';
import { ManualClock } from '../ports/manual-clock.js';

const viewer = bearer(TOKENS.dashboard);
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function withPhotos() {
  const dir = mkdtempSync(join(tmpdir(), 'api-photos-'));
  const clock = new ManualClock(API_T0);
  const incidents = await testIncidentRuntime({ config: await testSite(), clock, dir });
  cleanups.push(() => incidents.stop());
  const t = await testApi({ incidents, clock, photos: new PhotoStore(join(dir, 'photos')) });
  cleanups.push(() => t.app.close());
  return { ...t, dir, incidents, otto: await session(t.app, 'otto') };
}

describe('photos from the scene', () => {
  it('keeps a photo on disk before answering, names it on the timeline and in the report; refuses what is not a photo, too big, or on a closed case', async () => {
    const t = await withPhotos();
    const inc = json<Incident>(
      await t.app.inject({
        method: 'POST',
        url: '/api/incidents',
        headers: t.otto,
        payload: { playbook: 'water_leak', building: 'b1' },
      }),
    );
    const post = (payload: Buffer, type = 'image/png', headers: Record<string, string> = t.otto, caption = '') =>
      t.app.inject({
        method: 'POST',
        url: `/api/incidents/${inc.id}/photos${caption ? `?caption=${encodeURIComponent(caption)}` : ''}`,
        headers: { ...headers, 'content-type': type },
        payload,
      });

    const res = await post(PNG, 'image/png', t.otto, 'B2 泵房积水 pump room flooded');
    expect(res.statusCode, res.body).toBe(201);
    expect(json(res)).toEqual({ incident: inc.id, name: '1.png', bytes: PNG.length, mime: 'image/png' });
    expect(readFileSync(join(t.dir, 'photos', inc.id, '1.png')).equals(PNG)).toBe(true);
    const back = await t.app.inject({ url: `/api/incidents/${inc.id}/photos/1.png`, headers: viewer });
    expect([back.statusCode, back.headers['content-type'], back.rawPayload.equals(PNG)]).toEqual([
      200,
      'image/png',
      true,
    ]);
    const one = json<{ timeline: { type: string; text: { en: string } }[] }>(
      await t.app.inject({ url: `/api/incidents/${inc.id}`, headers: viewer }),
    );
    expect(one.timeline.at(-1)).toEqual({
      at: expect.any(Number),
      type: 'photo',
      photo: '1.png',
      text: expect.objectContaining({ en: 'Otto added a photo from the scene: B2 泵房积水 pump room flooded' }),
    });
    const report = await t.app.inject({ url: `/api/incidents/${inc.id}/report`, headers: viewer });
    expect(report.body).toContain('<img src="photos/1.png" alt="B2 泵房积水 pump room flooded">');

    // A text file calling itself a JPEG, a wrong content type, a viewer, an unknown incident, a bad name.
    const fake = await post(Buffer.from('not a photo, honestly'), 'image/jpeg');
    expect([fake.statusCode, json(fake).error]).toEqual([415, 'not_a_photo']);
    expect((await post(PNG, 'application/octet-stream')).statusCode).toBe(415);
    expect((await post(PNG, 'image/png', viewer)).statusCode).toBe(403);
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/api/incidents/inc-99/photos',
          headers: { ...t.otto, 'content-type': 'image/png' },
          payload: PNG,
        })
      ).statusCode,
    ).toBe(404);
    expect(
      (await t.app.inject({ url: `/api/incidents/${inc.id}/photos/..%2Fevents.jsonl`, headers: viewer })).statusCode,
    ).toBe(400);
    expect((await t.app.inject({ url: `/api/incidents/${inc.id}/photos/9.png`, headers: viewer })).statusCode).toBe(
      404,
    );
    // Too big: refused before it is read whole.
    const big = Buffer.concat([PNG, Buffer.alloc(PHOTO_MAX_BYTES)]);
    expect((await post(big)).statusCode).toBe(413);
    // Nothing refused was kept or named.
    expect(
      json<{ timeline: { type: string }[] }>(
        await t.app.inject({ url: `/api/incidents/${inc.id}`, headers: viewer }),
      ).timeline.filter((e) => e.type === 'photo'),
    ).toHaveLength(1);

    await t.incidents.command(inc.id, { type: 'note', by: 'otto', text: 'x' });
    // A closed case takes no more.
    const { incident } = t.incidents.get(inc.id);
    for (const s of Object.keys(incident.steps))
      await t.app.inject({
        method: 'POST',
        url: `/api/incidents/${inc.id}/commands`,
        headers: t.otto,
        payload: {
          type: 'complete_step',
          step: s,
          fields: Object.fromEntries(
            t.incidents
              .get(inc.id)
              .playbook.steps.find((x) => x.id === s)!
              .record.filter((f) => f.required)
              .map((f) => [f.name, f.type === 'time' ? '2025-01-15T09:00:00Z' : f.type === 'bool' ? false : 'x']),
          ),
        },
      });
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: `/api/incidents/${inc.id}/commands`,
          headers: t.otto,
          payload: { type: 'close' },
        })
      ).statusCode,
    ).toBe(200);
    expect(json(await post(PNG)).error).toBe('closed');
  });
});
