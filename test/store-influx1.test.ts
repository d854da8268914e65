import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createStore } from '../gateway/store/index.js';
import { toLineProtocol } from '../gateway/store/line-protocol.js';
import { freePort } from '../gateway/store/influxd.js';
import { StoreRejectedError } from '../gateway/store/errors.js';
import { Influx1Driver } from '../gateway/store/influx1.js';
import type { Point } from '../gateway/store/driver.js';
import { writePoints } from '../gateway/store/write-points.js';
import { influxql, uniqueDb, waitFor } from './store-support.js';

// The InfluxDB 1.x driver against the real influxd of the test run (test/global-setup.ts).

const url = inject('influxUrl');
const T = 1_700_000_000_123_456; // µs, with a sub-millisecond part that must survive
const databases: string[] = [];

function driverFor(prefix: string): Influx1Driver {
  const database = uniqueDb(prefix);
  databases.push(database);
  return new Influx1Driver({ url, database });
}
const dbOf = (d: Influx1Driver) => (d as unknown as { opts: { database: string } }).opts.database;

afterAll(async () => {
  for (const db of databases) await influxql(url, db, `DROP DATABASE "${db}"`).catch(() => undefined);
});

const water = (i: number, total: number): Point => ({
  measurement: 'water_meter',
  tags: { site: 's1', building: 'b1', floor: '1', unit: 'u101', device: 'wm-101' },
  fields: { total_m3: total, flow_m3h: 0, error_code: i, leak: i % 2 === 1 },
  tsUs: T + i,
});
const lift = (i: number): Point => ({
  measurement: 'lift',
  tags: { site: 's1', building: 'b1', device: 'lift-a' },
  fields: {
    floor: i,
    direction: 'up',
    door: 'closed',
    occupied: true,
    in_door_zone: false,
    ...(i === 2 ? { quality: 'uncertain' } : {}),
  },
  tsUs: T + 10 + i,
});

describe('Influx1Driver (real influxd)', () => {
  it('creates the database and writes each field with its catalogue type', async () => {
    const driver = driverFor('types');
    await driver.connect();
    await driver.connect(); // idempotent
    // total_m3 = 12 first: a whole number that must still be stored as a float.
    await writePoints(driver, [water(0, 12), water(1, 12.5), lift(0), lift(1), lift(2)]);

    const types = async (m: string) =>
      Object.fromEntries(
        ((await influxql(url, dbOf(driver), `SHOW FIELD KEYS FROM "${m}"`))[0]?.values ?? []).map((v) => [v[0], v[1]]),
      );
    expect(await types('water_meter')).toEqual({
      total_m3: 'float',
      flow_m3h: 'float',
      error_code: 'integer',
      leak: 'boolean',
    });
    expect(await types('lift')).toEqual({
      floor: 'integer',
      direction: 'string',
      door: 'string',
      occupied: 'boolean',
      in_door_zone: 'boolean',
      quality: 'string',
    });

    // Timestamps to the microsecond, tags only those given.
    const rows = await influxql(url, dbOf(driver), `SELECT * FROM "water_meter"`);
    expect(rows[0]!.columns).toEqual([
      'time',
      'building',
      'device',
      'error_code',
      'floor',
      'flow_m3h',
      'leak',
      'site',
      'total_m3',
      'unit',
    ]);
    expect(rows[0]!.values).toEqual([
      [T, 'b1', 'wm-101', 0, '1', 0, false, 's1', 12, 'u101'],
      [T + 1, 'b1', 'wm-101', 1, '1', 0, true, 's1', 12.5, 'u101'],
    ]);
    const tagKeys = await influxql(url, dbOf(driver), `SHOW TAG KEYS FROM "lift"`);
    expect(tagKeys[0]!.values.flat()).toEqual(['building', 'device', 'site']);
  });

  it('queries one device between from and to, in time order, with typed values', async () => {
    const driver = driverFor('query');
    await driver.connect();
    // Written out of order on purpose.
    await writePoints(driver, [lift(3), lift(1), lift(2), lift(0)]);
    const fromMs = Math.floor((T + 11) / 1000);
    const rows = await driver.query({
      measurement: 'lift',
      deviceId: 'lift-a',
      from: fromMs,
      to: fromMs + 1,
      limit: 10,
    });
    // T+11 .. T+13 all fall in the same millisecond as T+10; from/to are whole ms, so all four come back.
    expect(rows.map((r) => r.time)).toEqual([
      '2023-11-14T22:13:20.123466Z',
      '2023-11-14T22:13:20.123467Z',
      '2023-11-14T22:13:20.123468Z',
      '2023-11-14T22:13:20.123469Z',
    ]);
    expect(rows[0]!.fields).toMatchObject({
      floor: 0,
      direction: 'up',
      occupied: true,
      in_door_zone: false,
      fault_code: null,
      quality: null,
    });
    expect(rows[2]!.fields.quality).toBe('uncertain');

    const some = await driver.query({
      measurement: 'lift',
      deviceId: 'lift-a',
      from: fromMs,
      to: fromMs + 1,
      fields: ['floor'],
      limit: 2,
    });
    expect(some).toEqual([
      { time: '2023-11-14T22:13:20.123466Z', fields: { floor: 0 } },
      { time: '2023-11-14T22:13:20.123467Z', fields: { floor: 1 } },
    ]);
    expect(
      await driver.query({ measurement: 'lift', deviceId: 'lift-a', from: fromMs + 1, to: fromMs + 2, limit: 10 }),
    ).toEqual([]);
    // Times always carry six fractional digits (InfluxDB itself trims trailing zeros).
    await writePoints(driver, [{ ...lift(9), tsUs: 1_700_000_000_500_000 }]);
    const round = await driver.query({
      measurement: 'lift',
      deviceId: 'lift-a',
      from: 1_700_000_000_500,
      to: 1_700_000_000_501,
      fields: ['floor'],
      limit: 1,
    });
    expect(round).toEqual([{ time: '2023-11-14T22:13:20.500000Z', fields: { floor: 9 } }]);
    await expect(
      driver.query({ measurement: 'lift', deviceId: 'lift-a', from: 0, to: 1, fields: ['floor" FROM x'], limit: 1 }),
    ).rejects.toThrow(/unknown field/);
    await expect(driver.query({ measurement: 'pizza', deviceId: 'x', from: 0, to: 1, limit: 1 })).rejects.toThrow(
      /unknown measurement/,
    );
  });

  it('takes device ids with quotes, backslashes and spaces literally (no injection)', async () => {
    const driver = driverFor('escape');
    await driver.connect();
    const evil = `x' OR device = 'lift-a`;
    const odd = `a\\b "c", d=e`;
    await writePoints(driver, [
      lift(0),
      { ...lift(1), tags: { ...lift(1).tags, device: evil } },
      { ...lift(2), tags: { ...lift(2).tags, device: odd } },
    ]);
    const q = (deviceId: string) =>
      driver.query({ measurement: 'lift', deviceId, from: 0, to: 2e12, fields: ['floor'], limit: 10 });
    expect((await q(evil)).map((r) => r.fields.floor)).toEqual([1]);
    expect((await q(odd)).map((r) => r.fields.floor)).toEqual([2]);
    expect((await q('lift-a')).map((r) => r.fields.floor)).toEqual([0]);
  });

  it('a replayed batch leaves exactly one copy of each point', async () => {
    const driver = driverFor('replay');
    await driver.connect();
    const batch = Array.from({ length: 500 }, (_, i) => water(i, i + 0.25));
    await writePoints(driver, batch);
    await writePoints(driver, batch);
    await writePoints(driver, batch.slice(100, 200));
    const count = await influxql(url, dbOf(driver), `SELECT count("total_m3") FROM "water_meter"`);
    expect(count[0]!.values[0]![1]).toBe(500);
  });

  it('refuses unstorable points (and only them) with StoreRejectedError', async () => {
    const driver = driverFor('refuse');
    await driver.connect();
    const bad: Point = { ...lift(1), fields: { floor: 1.5 } };
    const unknown: Point = { ...lift(2), fields: { pizza: 1 } };
    const err = await writePoints(driver, [lift(0), bad, unknown, lift(3)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreRejectedError);
    expect((err as StoreRejectedError).points).toEqual([bad, unknown]);
    expect((err as Error).message).toMatch(/floor must be int/);
    const rows = await driver.query({
      measurement: 'lift',
      deviceId: 'lift-a',
      from: 0,
      to: 2e12,
      fields: ['floor'],
      limit: 10,
    });
    expect(rows.map((r) => r.fields.floor)).toEqual([0, 3]);
  });

  it('turns a field type conflict (HTTP 400) into StoreRejectedError', async () => {
    const driver = driverFor('conflict');
    await driver.connect();
    // Someone else wrote `floor` as a string before us.
    const res = await fetch(`${url}/write?db=${dbOf(driver)}&precision=u`, {
      method: 'POST',
      body: `lift,device=lift-a floor="3" ${T}`,
    });
    expect(res.status).toBe(204);
    const err = await writePoints(driver, [lift(1)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreRejectedError);
    expect((err as Error).message).toMatch(/field type conflict/);
  });

  it('the store keeps what cannot be stored in its rejected file: points unfit for line protocol at once, lines the database refuses after their write', async () => {
    const driver = driverFor('setaside');
    await driver.connect();
    const res = await fetch(`${url}/write?db=${dbOf(driver)}&precision=u`, {
      method: 'POST',
      body: `lift,device=lift-z floor="3" ${T}`,
    });
    expect(res.status).toBe(204);
    const dir = mkdtempSync(join(tmpdir(), 'store-setaside-'));
    const store = createStore({
      driver,
      spool: { dir, maxBytes: 1 << 20, fsyncIntervalMs: 0 },
      writer: { flushIntervalMs: 0 },
    });
    await store.open();
    try {
      const unfit: Point = { ...lift(1), fields: { floor: 1.5 } };
      const conflicting: Point = { ...lift(2), tags: { site: 's1', building: 'b1', device: 'lift-z' } };
      // Both count as accepted: neither is lost, and retrying them could not help.
      await store.append([water(0, 1.5), unfit, conflicting, water(1, 2.5)]);
      await waitFor(
        () =>
          store.spool.depth === 0 &&
          existsSync(join(dir, 'rejected.jsonl')) &&
          readFileSync(join(dir, 'rejected.jsonl'), 'utf8').split('\n').length >= 3,
        'the writer to drain the spool and keep both refused points',
        10_000,
      );
      const kept = readFileSync(join(dir, 'rejected.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { reason: string; line?: string; point?: Point });
      // Both go to the file as they happen, in either order.
      expect(kept.filter((k) => k.point)).toEqual([
        { reason: 'cannot be stored: field floor must be int, got 1.5', point: unfit },
      ]);
      const refused = kept.filter((k) => k.line);
      // InfluxDB 1.x writes a batch partially: the refused request's lines are all kept (replaying the stored ones is harmless).
      expect(refused.map((k) => k.line)).toEqual(
        toLineProtocol([water(0, 1.5), conflicting, water(1, 2.5)]).split('\n'),
      );
      expect(refused[0]!.reason).toMatch(/field type conflict/);
      expect(store.health().store).toMatchObject({ status: 'degraded', rejected: 4 });
      const rows = await driver.query({
        measurement: 'water_meter',
        deviceId: 'wm-101',
        from: 0,
        to: 2e12,
        fields: ['total_m3'],
        limit: 10,
      });
      expect(rows.map((r) => r.fields.total_m3)).toEqual([1.5, 2.5]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('recreates a database dropped under it', async () => {
    const driver = driverFor('dropped');
    await driver.connect();
    await influxql(url, dbOf(driver), `DROP DATABASE "${dbOf(driver)}"`);
    await writePoints(driver, [lift(0)]);
    expect(
      await driver.query({ measurement: 'lift', deviceId: 'lift-a', from: 0, to: 2e12, fields: ['floor'], limit: 10 }),
    ).toHaveLength(1);
  });

  it('says which URL and database failed when the server is unreachable', async () => {
    const port = await freePort();
    const driver = new Influx1Driver({
      url: `http://user:secret@127.0.0.1:${port}`,
      database: 'nowhere',
      timeoutMs: 2000,
    });
    const connectErr = await driver.connect().catch((e: unknown) => e as Error);
    expect(connectErr!.message).toMatch(
      new RegExp(
        `InfluxDB 1.x at http://127.0.0.1:${port} \\(database "nowhere"\\): connecting .* failed: .*ECONNREFUSED`,
      ),
    );
    expect(connectErr!.message).not.toMatch(/secret/);
    await expect(writePoints(driver, [lift(0)])).rejects.toThrow(/database "nowhere"\): writing 1 points failed/);
    expect(await driver.ping()).toBe(false);
  });
});
