import { beforeEach, describe, expect, it } from 'vitest';
import { TOKENS, bearer, json, testApi, type TestApi } from './testing.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const viewer = bearer(TOKENS.dashboard);
const operator = bearer(TOKENS.meterbot);

describe('GET /api/devices/:id/readings', () => {
  let t: TestApi;
  const get = (query: string, id = 'wm-101') => t.app.inject({ url: `/api/devices/${id}/readings${query}`, headers: viewer });
  const errorOf = async (query: string) => {
    const res = await get(query);
    expect(res.statusCode, res.body).toBe(400);
    const body = json<{ error: string; message: string }>(res);
    expect(body.error).toBe('bad_request');
    return body.message;
  };

  beforeEach(async () => {
    const now = Date.parse('2025-01-15T08:00:00Z');
    // One row every 10 minutes over the last 3 hours.
    const rows = Array.from({ length: 18 }, (_, i) => ({ ms: now - 3 * HOUR + i * 10 * MIN, fields: { total_m3: 100 + i, flow_m3h: 0.5 } }));
    t = await testApi({ rows: { 'wm-101': rows } });
  });

  it('defaults to the last hour, all fields, 1000 rows', async () => {
    const res = await get('');
    expect(res.statusCode).toBe(200);
    const body = json<{ device: string; from: string; to: string; rows: { time: string }[] }>(res);
    expect(body).toMatchObject({ device: 'wm-101', from: '2025-01-15T07:00:00.000Z', to: '2025-01-15T08:00:00.000Z' });
    expect(body.rows.map((r) => r.time)).toEqual(['07:00', '07:10', '07:20', '07:30', '07:40', '07:50'].map((hm) => `2025-01-15T${hm}:00.000Z`));
    expect(t.readings.queries).toEqual([{ measurement: 'water_meter', deviceId: 'wm-101', from: t.clock.now() - HOUR, to: t.clock.now(), limit: 1000 }]);
  });

  it('takes ISO-8601 with a zone or epoch ms, a field list and a limit', async () => {
    const from = Date.parse('2025-01-15T05:00:00Z');
    const res = await get(`?from=2025-01-15T13:00:00%2B08:00&to=${from + 2 * HOUR}&fields=total_m3&limit=3`);
    expect(res.statusCode, res.body).toBe(200);
    expect(json<{ rows: unknown[] }>(res).rows).toEqual([
      { time: '2025-01-15T05:00:00.000Z', fields: { total_m3: 100 } },
      { time: '2025-01-15T05:10:00.000Z', fields: { total_m3: 101 } },
      { time: '2025-01-15T05:20:00.000Z', fields: { total_m3: 102 } },
    ]);
    expect(t.readings.queries[0]).toEqual({ measurement: 'water_meter', deviceId: 'wm-101', from, to: from + 2 * HOUR, fields: ['total_m3'], limit: 3 });
  });

  it('reads an unencoded + in a zone offset as the + it was meant to be', async () => {
    expect((await get('?from=2025-01-15T15:30:00+08:00')).statusCode).toBe(200);
    expect(t.readings.queries[0]!.from).toBe(Date.parse('2025-01-15T07:30:00Z'));
  });

  it('explains a `from` that is not a time', async () => {
    expect(await errorOf('?from=yesterday')).toBe('querystring.from: "yesterday" is not a time; use ISO-8601 with a zone (2024-05-01T08:00:00+08:00) or epoch milliseconds');
    expect(await errorOf('?from=2025-01-15T07:00:00')).toContain('querystring.from: "2025-01-15T07:00:00" has no time zone');
    expect(await errorOf('?from=1736920800')).toContain('looks like epoch seconds');
    expect(await errorOf('?from=2025-02-30T00:00:00Z')).toContain('is not a valid date');
  });

  it('explains an inverted range, also when `to` is the default now', async () => {
    expect(await errorOf('?from=2025-01-15T07:00:00Z&to=2025-01-15T06:00:00Z')).toBe(
      'querystring.to: must be after from (from 2025-01-15T07:00:00.000Z, to 2025-01-15T06:00:00.000Z)',
    );
    expect(await errorOf('?from=2025-01-15T09:00:00Z')).toContain('to (now) 2025-01-15T08:00:00.000Z');
  });

  it('refuses a range longer than 31 days', async () => {
    expect(await errorOf('?from=2024-12-01T00:00:00Z&to=2025-01-02T00:00:00Z')).toBe(
      'querystring.to: the range from..to is 32.0 days; ask for at most 31 days at a time',
    );
    expect((await get('?from=2024-12-01T00:00:00Z&to=2025-01-01T00:00:00Z')).statusCode).toBe(200);
  });

  it('names a field the device kind does not have', async () => {
    const message = await errorOf('?fields=total_m3,flux_m3h');
    expect(message).toMatch(/^querystring\.fields: "flux_m3h" is not a water_meter field \(known: total_m3, flow_m3h, /);
    // A lift field is not a water meter field either.
    expect(await errorOf('?fields=door')).toContain('"door" is not a water_meter field');
    expect(t.readings.queries).toEqual([]);
  });

  it('keeps limit within 1..10000 and refuses unknown parameters', async () => {
    expect(await errorOf('?limit=0')).toMatch(/^querystring\.limit: /);
    expect(await errorOf('?limit=10001')).toMatch(/^querystring\.limit: /);
    expect(await errorOf('?limit=ten')).toMatch(/^querystring\.limit: /);
    expect(await errorOf('?feilds=total_m3')).toContain('feilds');
  });

  it('answers 404 for a device the site does not have', async () => {
    const res = await get('', 'wm-999');
    expect(res.statusCode).toBe(404);
    expect(json(res)).toEqual({ error: 'not_found', message: 'no device "wm-999" in this site' });
  });

  it('answers 503 without internals when the database fails', async () => {
    t.readings.failWith = new Error('connect ECONNREFUSED 10.1.2.3:8086');
    const res = await get('');
    expect(res.statusCode).toBe(503);
    expect(json(res).error).toBe('store_unavailable');
    expect(res.body).not.toContain('10.1.2.3');
  });
});

describe('POST /api/readings (a manual reading)', () => {
  let t: TestApi;
  const post = (payload: unknown) => t.app.inject({ method: 'POST', url: '/api/readings', headers: operator, payload: payload as object });
  const rejected = async (protocol: string, reason: string) =>
    (await t.metrics.readingsRejected.get()).values.find((v) => v.labels.protocol === protocol && v.labels.reason === reason)?.value ?? 0;

  beforeEach(async () => {
    t = await testApi();
  });

  it('hands a valid reading to ingest and answers 202; the device shows it', async () => {
    const res = await post({ device_id: 'wm-101', ts: '2025-01-15T15:55:00+08:00', fields: { total_m3: 1234.5 } });
    expect(res.statusCode, res.body).toBe(202);
    expect(json(res)).toEqual({ accepted: true, device_id: 'wm-101', ts: '2025-01-15T07:55:00.000Z' });
    expect(t.ingested).toEqual([{ deviceId: 'wm-101', kind: 'water_meter', ts: Date.parse('2025-01-15T07:55:00Z'), fields: { total_m3: 1234.5 }, quality: 'good' }]);
    const device = json<{ lastReading: { fields: unknown } }>(await t.app.inject({ url: '/api/devices/wm-101', headers: viewer }));
    expect(device.lastReading.fields).toEqual({ total_m3: 1234.5 });
  });

  it('stamps a reading without ts with the injected clock', async () => {
    expect((await post({ device_id: 'lift-a', fields: { floor: 3, door: 'open' } })).statusCode).toBe(202);
    expect(t.ingested[0]!.ts).toBe(t.clock.now());
  });

  it('refuses fields the catalogue does not allow with 422 and the reason, and counts them', async () => {
    const unknown = await post({ device_id: 'wm-101', fields: { total_m3: 1, temperature_c: 20 } });
    expect(unknown.statusCode).toBe(422);
    expect(json(unknown)).toEqual({ error: 'reading_refused', reason: 'unknown_field', message: 'temperature_c is not a water_meter field' });
    const range = await post({ device_id: 'wm-101', fields: { total_m3: -5 } });
    expect(json(range)).toMatchObject({ error: 'reading_refused', reason: 'out_of_range' });
    const badEnum = await post({ device_id: 'lift-a', fields: { door: 'ajar' } });
    expect(json(badEnum)).toMatchObject({ reason: 'bad_type' });
    expect(await rejected('http', 'unknown_field')).toBe(1);
    expect(t.ingested).toEqual([]);
  });

  it('refuses a time too far in the future or too old', async () => {
    const future = await post({ device_id: 'wm-101', ts: t.clock.now() + 301_000, fields: { total_m3: 1 } });
    expect(future.statusCode).toBe(422);
    expect(json(future)).toMatchObject({ reason: 'bad_timestamp' });
    const old = await post({ device_id: 'wm-101', ts: t.clock.now() - 8 * 24 * HOUR, fields: { total_m3: 1 } });
    expect(json(old)).toMatchObject({ reason: 'bad_timestamp' });
    expect(t.ingested).toEqual([]);
  });

  it('answers 503 with Retry-After when the spool cannot keep the reading now (full, failing): send it again later, nothing was kept', async () => {
    for (const [reason, detail] of [['spool_full', 'spool is full (1 GiB)'], ['spool_error', 'EIO: i/o error, fdatasync']] as const) {
      t.refuse.value = { accepted: false, reason, detail };
      const res = await post({ device_id: 'wm-101', fields: { total_m3: 1 } });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('30');
      expect(json(res)).toEqual({ error: 'not_kept', reason, message: `reading not kept: ${detail}; send it again later` });
    }
  });

  it('answers 422 for a reading refused for good (it cannot be stored as it is)', async () => {
    t.refuse.value = { accepted: false, reason: 'out_of_range', detail: 'total_m3 -5 is below 0' };
    const res = await post({ device_id: 'wm-101', fields: { total_m3: 1 } });
    expect(res.statusCode).toBe(422);
    expect(json(res)).toMatchObject({ error: 'reading_refused', reason: 'out_of_range' });
  });

  it('answers 404 for an unknown device', async () => {
    const res = await post({ device_id: 'ghost', fields: { total_m3: 1 } });
    expect(res.statusCode).toBe(404);
    expect(json(res).message).toBe('no device "ghost" in this site');
  });

  it('answers 400 naming the field for a body of the wrong shape', async () => {
    expect(json(await post({ fields: { total_m3: 1 } })).message).toBe('body.device_id: is required');
    expect(json(await post({ device_id: 'wm-101', fields: 'total_m3=1' })).message).toMatch(/^body\.fields: /);
    expect(json(await post({ device_id: 'wm-101', fields: { total_m3: { v: 1 } } })).message).toMatch(/^body\.fields\.total_m3: /);
    expect(json(await post({ device_id: 'wm-101', ts: 'noon', fields: { total_m3: 1 } })).message).toMatch(/^body\.ts: "noon" is not a time/);
  });

  it('answers 503 when the gateway takes no manual readings', async () => {
    const t2 = await testApi({ ingest: undefined });
    const res = await t2.app.inject({ method: 'POST', url: '/api/readings', headers: operator, payload: { device_id: 'wm-101', fields: { total_m3: 1 } } });
    expect(res.statusCode).toBe(503);
    expect(json(res).error).toBe('ingest_unavailable');
  });
});
