import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { uniqueDb } from './support/wait.js';
import { Influx1Driver } from '../gateway/store/influx1.js';
import type { Point } from '../gateway/store/driver.js';
import { TOKENS, bearer, json, testApi, type TestApi } from '../gateway/http/testing.js';
import { writePoints } from '../gateway/store/write-points.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const viewer = bearer(TOKENS.dashboard);
const operator = bearer(TOKENS.meterbot);

describe('GET /api/devices/:id/readings', () => {
  let t: TestApi;
  const get = (query: string, id = 'wm-101') =>
    t.app.inject({ url: `/api/devices/${id}/readings${query}`, headers: viewer });
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
    const rows = Array.from({ length: 18 }, (_, i) => ({
      ms: now - 3 * HOUR + i * 10 * MIN,
      fields: { total_m3: 100 + i, flow_m3h: 0.5 },
    }));
    t = await testApi({ rows: { 'wm-101': rows } });
  });

  it('defaults to the last hour, all fields, 1000 rows', async () => {
    const res = await get('');
    expect(res.statusCode).toBe(200);
    const body = json<{ device: string; from: string; to: string; rows: { time: string }[] }>(res);
    expect(body).toMatchObject({ device: 'wm-101', from: '2025-01-15T07:00:00.000Z', to: '2025-01-15T08:00:00.000Z' });
    expect(body.rows.map((r) => r.time)).toEqual(
      ['07:00', '07:10', '07:20', '07:30', '07:40', '07:50'].map((hm) => `2025-01-15T${hm}:00.000Z`),
    );
    expect(t.readings.queries).toEqual([
      { measurement: 'water_meter', deviceId: 'wm-101', from: t.clock.now() - HOUR, to: t.clock.now(), limit: 1000 },
    ]);
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
    expect(t.readings.queries[0]).toEqual({
      measurement: 'water_meter',
      deviceId: 'wm-101',
      from,
      to: from + 2 * HOUR,
      fields: ['total_m3'],
      limit: 3,
    });
  });

  it('reads an unencoded + in a zone offset as the + it was meant to be', async () => {
    expect((await get('?from=2025-01-15T15:30:00+08:00')).statusCode).toBe(200);
    expect(t.readings.queries[0]!.from).toBe(Date.parse('2025-01-15T07:30:00Z'));
  });

  it('explains a `from` that is not a time', async () => {
    expect(await errorOf('?from=yesterday')).toBe(
      'querystring.from: "yesterday" is not a time; use ISO-8601 with a zone (2024-05-01T08:00:00+08:00) or epoch milliseconds',
    );
    expect(await errorOf('?from=2025-01-15T07:00:00')).toContain(
      'querystring.from: "2025-01-15T07:00:00" has no time zone',
    );
    expect(await errorOf('?from=1736920800')).toContain('looks like epoch seconds');
    expect(await errorOf('?from=2025-02-30T00:00:00Z')).toContain('is not a valid date');
  });

  it('explains an inverted range, also when `to` is the default now', async () => {
    expect(await errorOf('?from=2025-01-15T07:00:00Z&to=2025-01-15T06:00:00Z')).toBe(
      'querystring.to: must be after from (from 2025-01-15T07:00:00.000Z, to 2025-01-15T06:00:00.000Z)',
    );
    expect(await errorOf('?from=2025-01-15T09:00:00Z')).toContain('to (now) 2025-01-15T08:00:00.000Z');
  });

  it('refuses raw readings over more than 31 days, pointing to every=', async () => {
    expect(await errorOf('?from=2024-12-01T00:00:00Z&to=2025-01-02T00:00:00Z')).toBe(
      'querystring.to: the range from..to is 32.0 days; ask for at most 31 days of readings at a time, or per interval with every= (up to 92 days)',
    );
    expect((await get('?from=2024-12-01T00:00:00Z&to=2025-01-01T00:00:00Z')).statusCode).toBe(200);
  });

  it('names a field the device kind does not have', async () => {
    const message = await errorOf('?fields=total_m3,flux_m3h');
    expect(message).toMatch(
      /^querystring\.fields: "flux_m3h" is not a water_meter field \(known: total_m3, flow_m3h, /,
    );
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
  const post = (payload: unknown) =>
    t.app.inject({ method: 'POST', url: '/api/readings', headers: operator, payload: payload as object });
  const rejected = async (protocol: string, reason: string) =>
    (await t.metrics.readingsRejected.get()).values.find(
      (v) => v.labels.protocol === protocol && v.labels.reason === reason,
    )?.value ?? 0;

  beforeEach(async () => {
    t = await testApi();
  });

  it('hands a valid reading to ingest and answers 202; the device shows it', async () => {
    const res = await post({ device_id: 'wm-101', ts: '2025-01-15T15:55:00+08:00', fields: { total_m3: 1234.5 } });
    expect(res.statusCode, res.body).toBe(202);
    expect(json(res)).toEqual({ accepted: true, device_id: 'wm-101', ts: '2025-01-15T07:55:00.000Z' });
    expect(t.ingested).toEqual([
      {
        deviceId: 'wm-101',
        kind: 'water_meter',
        ts: Date.parse('2025-01-15T07:55:00Z'),
        fields: { total_m3: 1234.5 },
        quality: 'good',
      },
    ]);
    const device = json<{ lastReading: { fields: unknown } }>(
      await t.app.inject({ url: '/api/devices/wm-101', headers: viewer }),
    );
    expect(device.lastReading.fields).toEqual({ total_m3: 1234.5 });
  });

  it('stamps a reading without ts with the injected clock', async () => {
    expect((await post({ device_id: 'lift-a', fields: { floor: 3, door: 'open' } })).statusCode).toBe(202);
    expect(t.ingested[0]!.ts).toBe(t.clock.now());
  });

  it('refuses fields the catalogue does not allow with 422 and the reason, and counts them', async () => {
    const unknown = await post({ device_id: 'wm-101', fields: { total_m3: 1, temperature_c: 20 } });
    expect(unknown.statusCode).toBe(422);
    expect(json(unknown)).toEqual({
      error: 'reading_refused',
      reason: 'unknown_field',
      message: 'temperature_c is not a water_meter field',
    });
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
    for (const [reason, detail] of [
      ['spool_full', 'spool is full (1 GiB)'],
      ['spool_error', 'EIO: i/o error, fdatasync'],
    ] as const) {
      t.refuse.value = { accepted: false, reason, detail };
      const res = await post({ device_id: 'wm-101', fields: { total_m3: 1 } });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('30');
      expect(json(res)).toEqual({
        error: 'not_kept',
        reason,
        message: `reading not kept: ${detail}; send it again later`,
      });
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
    expect(json(await post({ device_id: 'wm-101', fields: { total_m3: { v: 1 } } })).message).toMatch(
      /^body\.fields\.total_m3: /,
    );
    expect(json(await post({ device_id: 'wm-101', ts: 'noon', fields: { total_m3: 1 } })).message).toMatch(
      /^body\.ts: "noon" is not a time/,
    );
  });

  it('answers 503 when the gateway takes no manual readings', async () => {
    const t2 = await testApi({ ingest: undefined });
    const res = await t2.app.inject({
      method: 'POST',
      url: '/api/readings',
      headers: operator,
      payload: { device_id: 'wm-101', fields: { total_m3: 1 } },
    });
    expect(res.statusCode).toBe(503);
    expect(json(res).error).toBe('ingest_unavailable');
  });
});

describe('GET /api/devices/:id/readings?every= (aggregated in a real InfluxDB)', () => {
  // 92 days of a water meter read every 15 minutes up to the test clock's now
  // (2025-01-15T08:00Z, 16:00 in the site's zone, Asia/Shanghai): 0.01 m³ per reading, a
  // burst of 5 m³ with a flow of 3 m³/h at 2025-01-10T02:00Z (10:00 local).
  const DAY = 24 * HOUR;
  const now = Date.parse('2025-01-15T08:00:00Z');
  const burst = Date.parse('2025-01-10T02:00:00Z');
  const url = inject('influxUrl');
  const database = uniqueDb('readings_every');
  const driver = new Influx1Driver({ url, database });
  let t: TestApi;
  type Aggregated = {
    from: string;
    to: string;
    every: string;
    everyMs: number;
    timezone: string;
    aggregation: Record<string, string>;
    rows: { time: string; fields: Record<string, number | null>; max?: Record<string, number | null> }[];
  };
  const get = async (query: string) => {
    const res = await t.app.inject({ url: `/api/devices/wm-101/readings${query}`, headers: viewer });
    expect(res.statusCode, res.body).toBe(200);
    return json<Aggregated>(res);
  };
  const errorOf = async (query: string) => {
    const res = await t.app.inject({ url: `/api/devices/wm-101/readings${query}`, headers: viewer });
    expect(res.statusCode, res.body).toBe(400);
    return json<{ message: string }>(res).message;
  };
  const range = (days: number) => `from=${new Date(now - days * DAY).toISOString()}&to=${new Date(now).toISOString()}`;

  beforeAll(async () => {
    await driver.connect();
    const points: Point[] = [];
    let total = 1000;
    for (let ms = now - 92 * DAY; ms < now; ms += 15 * MIN) {
      total += ms === burst ? 5.01 : 0.01;
      points.push({
        measurement: 'water_meter',
        tags: { device: 'wm-101' },
        fields: { total_m3: total, flow_m3h: ms === burst ? 3 : 0.5, leak: false },
        tsUs: ms * 1000,
      });
    }
    await writePoints(driver, points);
  });
  afterAll(async () => {
    await driver.influxql([`DROP DATABASE "${database}"`]).catch(() => undefined);
  });
  beforeEach(async () => {
    t = await testApi({ readings: driver });
  });

  it('answers 90 days as one row per local day: use of the counter, mean and max of the gauge, days starting at the site’s midnight', async () => {
    const body = await get(`?${range(90)}&every=1d`);
    expect(body).toMatchObject({
      every: '1d',
      everyMs: DAY,
      timezone: 'Asia/Shanghai',
      aggregation: { total_m3: 'use', flow_m3h: 'mean', error_code: 'max' },
    });
    // 2024-10-17 16:00 local .. 2025-01-15 16:00 local: the days 10-17 .. 01-15, 91 of them.
    expect(body.rows).toHaveLength(91);
    for (const row of body.rows)
      expect(row.time, 'a day starts at midnight in Shanghai (16:00 UTC)').toMatch(/T16:00:00\.000Z$/);
    expect(body.rows[0]!.time).toBe('2024-10-16T16:00:00.000Z');
    const byDay = new Map(body.rows.map((r) => [r.time, r]));
    // A whole day: 96 readings of 0.01 m³, the first day included (its use needs the reading before it).
    expect(body.rows[0]!.fields.total_m3).toBeCloseTo(0.96, 6);
    expect(byDay.get('2025-01-01T16:00:00.000Z')!.fields.total_m3).toBeCloseTo(0.96, 6);
    // The burst's day (local 2025-01-10) carries its 5 m³, its peak flow as the max and a mean above the usual 0.5.
    const burstDay = byDay.get('2025-01-09T16:00:00.000Z')!;
    expect(burstDay.fields.total_m3).toBeCloseTo(5.96, 6);
    expect(burstDay.max!.flow_m3h).toBe(3);
    expect(burstDay.fields.flow_m3h).toBeCloseTo(0.5 + 2.5 / 96, 6);
    // Today so far (00:00–16:00 local): 64 readings. A code no device sent stays null.
    expect(body.rows.at(-1)!.fields.total_m3).toBeCloseTo(0.64, 6);
    expect(body.rows.at(-1)!.fields.error_code).toBeNull();
  });

  it('keeps any range within 2000 intervals: a 90-day request at every=1h is refused with the interval that fits; every=2h answers', async () => {
    expect(await errorOf(`?${range(90)}&every=1h`)).toBe(
      'querystring.every: 1h over 90.0 days makes 2160 intervals; at most 2000: use every=65m or longer',
    );
    const body = await get(`?${range(90)}&every=2h&fields=total_m3`);
    expect(body.rows.length).toBeLessThanOrEqual(2000);
    expect(body.rows).toHaveLength(90 * 12);
    const used = body.rows.reduce((sum, r) => sum + (r.fields.total_m3 ?? 0), 0);
    expect(used).toBeCloseTo(90 * 96 * 0.01 + 5, 4);
  });

  it('gives a counter its use in intervals shorter than its readings (where SPREAD would read 0): the hour’s use in the intervals that saw a reading', async () => {
    const body = await get(`?${range(1 / 24)}&every=5m&fields=total_m3,flow_m3h`);
    expect(body.rows).toHaveLength(12);
    const uses = body.rows.map((r) => r.fields.total_m3);
    expect(uses.filter((u) => u !== null)).toHaveLength(4);
    expect(uses.reduce<number>((a, u) => a + (u ?? 0), 0)).toBeCloseTo(0.04, 6);
    // No reading, no value: a gap on the chart, not a zero.
    expect(body.rows[1]!.fields.flow_m3h).toBeNull();
  });

  it('names what is wrong with every, fields and limit', async () => {
    expect(await errorOf('?every=five')).toBe(
      'querystring.every: "five" is not an interval; write a whole number and s, m, h or d, e.g. every=5m',
    );
    expect(await errorOf('?every=5x')).toContain('"5x" is not an interval');
    expect(await errorOf('?every=0m')).toContain('"0m" is not an interval');
    expect(await errorOf('?every=-5m')).toContain('"-5m" is not an interval');
    expect(await errorOf('?every=32d')).toBe('querystring.every: "32d" is longer than 31 days');
    expect(await errorOf(`?${range(93)}&every=1d`)).toBe(
      'querystring.to: the range from..to is 93.0 days; ask for at most 92 days at a time',
    );
    expect(await errorOf('?every=5m&limit=10')).toMatch(
      /^querystring\.limit: limits raw readings; with every the answer has one row per interval/,
    );
    expect(await errorOf('?every=5m&fields=total_m3,leak')).toBe(
      'querystring.fields: "leak" is a flag (true/false); only numbers are aggregated per interval: ask for it without every',
    );
    expect(await errorOf('?every=5m&fields=valve,total_m3')).toContain('"valve" is not a water_meter field');
  });

  it('answers 501 where the database does not aggregate', async () => {
    const memory = await testApi();
    const res = await memory.app.inject({ url: '/api/devices/wm-101/readings?every=5m', headers: viewer });
    expect(res.statusCode).toBe(501);
    expect(json(res).error).toBe('aggregation_unavailable');
  });
});

describe('GET /api/devices/:id/fields', () => {
  it('serves the catalogue for the device: words in both languages, units, counters, states, and which fields take commands', async () => {
    const commands = {
      run: async () => Promise.reject(new Error('not here')),
      writable: (id: string) => (id === 'wm-101' ? ['valve_open'] : []),
      log: { add: async () => undefined, of: () => [] },
    };
    const t = await testApi({ commands: commands as never });
    const res = await t.app.inject({ url: '/api/devices/wm-101/fields', headers: viewer });
    expect(res.statusCode).toBe(200);
    const body = json<{
      kind: string;
      fields: {
        name: string;
        label: { zh: string; en: string };
        unit?: string;
        counter?: boolean;
        writable: boolean;
      }[];
    }>(res);
    expect(body.kind).toBe('water_meter');
    const byName = new Map(body.fields.map((f) => [f.name, f]));
    expect(byName.get('total_m3')).toMatchObject({
      label: { zh: '累计流量', en: 'Total volume' },
      unit: 'm³',
      counter: true,
      writable: false,
    });
    expect(byName.get('flow_m3h')).toMatchObject({ unit: 'm³/h', writable: false });
    expect(byName.get('valve_open')).toMatchObject({
      type: 'bool',
      label: { zh: '阀门开启', en: 'Valve open' },
      writable: true,
    });
    const lift = json<{ fields: { name: string; valueLabels?: Record<string, { zh: string }> }[] }>(
      await t.app.inject({ url: '/api/devices/lift-a/fields', headers: viewer }),
    );
    expect(lift.fields.find((f) => f.name === 'door')!.valueLabels!.closed!.zh).toBe('关门');
    expect((await t.app.inject({ url: '/api/devices/ghost/fields', headers: viewer })).statusCode).toBe(404);
  });
});
