import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StoreRejectedError } from './errors.js';
import { Influx2Driver } from './influx2.js';
import { toLineProtocol } from './line-protocol.js';
import type { Point } from './driver.js';
import { writePoints } from './write-points.js';

// No InfluxDB 2.x can run on this machine (test/store-influx2.test.ts runs the real one in a
// container where there is a runtime). Here a tiny HTTP server stands in for it, to pin down
// what the driver puts on the wire and how it reads the answers.

interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
}
type Answer = { status: number; body?: string; type?: string } | 'hang-up';

let server: Server;
let url: string;
let seen: Seen[] = [];
let answers: Record<string, Answer> = {};

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const u = new URL(req.url!, 'http://x');
      seen.push({
        method: req.method!,
        path: u.pathname,
        query: u.searchParams,
        headers: req.headers,
        body: (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8'),
      });
      const answer = answers[`${req.method} ${u.pathname}`] ?? {
        status: 404,
        body: '{"code":"not found","message":"path not found"}',
        type: 'application/json',
      };
      if (answer === 'hang-up') return req.socket.destroy();
      res.writeHead(answer.status, answer.type ? { 'content-type': answer.type } : {});
      res.end(answer.body ?? '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  seen = [];
  answers = { 'POST /api/v2/write': { status: 204 } };
});

const driver = (extra: Partial<ConstructorParameters<typeof Influx2Driver>[0]> = {}) =>
  new Influx2Driver({ url, org: 'estate org', bucket: 'dutyroom/raw', token: 's3cr3t', timeoutMs: 2000, ...extra });

const lift: Point = {
  measurement: 'lift',
  tags: { site: 's1', building: 'b 1', device: 'lift,a' },
  fields: { floor: 3, door: 'closed', occupied: true, direction: 'up' },
  tsUs: 1_700_000_000_123_456,
};
const water: Point = {
  measurement: 'water_meter',
  tags: { site: 's1', building: 'b1', device: 'wm-1' },
  fields: { total_m3: 12, error_code: 7, leak: false, quality: 'uncertain' },
  tsUs: 1_700_000_000_123_457,
};

describe('Influx2Driver on the wire', () => {
  it('sends one line-protocol request per batch, typed by the catalogue, µs precision, token auth', async () => {
    await writePoints(driver(), [lift, water]);
    expect(seen).toHaveLength(1);
    const req = seen[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/api/v2/write');
    expect(Object.fromEntries(req.query)).toEqual({ org: 'estate org', bucket: 'dutyroom/raw', precision: 'us' });
    expect(req.headers.authorization).toBe('Token s3cr3t');
    expect(req.body.split('\n')).toEqual([
      'lift,building=b\\ 1,device=lift\\,a,site=s1 direction="up",door="closed",floor=3i,occupied=T 1700000000123456',
      // total_m3 = 12 is a float field: no `i` suffix, whatever the value looks like.
      'water_meter,building=b1,device=wm-1,site=s1 error_code=7i,leak=F,quality="uncertain",total_m3=12 1700000000123457',
    ]);
  });

  it('gzips large bodies only when asked to', async () => {
    const many = Array.from({ length: 200 }, (_, i) => ({ ...lift, tsUs: lift.tsUs + i }));
    await writePoints(driver(), many);
    await writePoints(driver({ gzipThreshold: 1000 }), many);
    expect(seen.map((s) => s.headers['content-encoding'])).toEqual([undefined, 'gzip']);
    expect(seen[1]!.body).toBe(seen[0]!.body);
    expect(seen[0]!.body.split('\n')).toHaveLength(200);
  });

  it('a server error is a plain (retryable) error naming the server, org and bucket; the client does not retry by itself', async () => {
    answers['POST /api/v2/write'] = {
      status: 503,
      body: '{"code":"unavailable","message":"too busy"}',
      type: 'application/json',
    };
    const err = await writePoints(driver(), [lift]).catch((e: unknown) => e as Error);
    expect(err).not.toBeInstanceOf(StoreRejectedError);
    expect(err!.message).toMatch(
      new RegExp(`InfluxDB at ${url} \\(org "estate org", bucket "dutyroom/raw"\\): writing 1 points failed: HTTP 503`),
    );
    expect(seen).toHaveLength(1);
  });

  it('a refused token is retryable too (the operator fixes the token, the readings wait in the spool)', async () => {
    answers['POST /api/v2/write'] = {
      status: 401,
      body: '{"code":"unauthorized","message":"unauthorized access"}',
      type: 'application/json',
    };
    const err = await writePoints(driver(), [lift]).catch((e: unknown) => e as Error);
    expect(err).not.toBeInstanceOf(StoreRejectedError);
    expect(err!.message).toMatch(/HTTP 401.*unauthorized access/);
  });

  it('a dropped connection is retryable', async () => {
    answers['POST /api/v2/write'] = 'hang-up';
    const err = await writePoints(driver(), [lift]).catch((e: unknown) => e as Error);
    expect(err).not.toBeInstanceOf(StoreRejectedError);
    expect(err!.message).toMatch(/writing 1 points failed/);
  });

  it('data the server refuses (400, 422) becomes StoreRejectedError with the lines sent', async () => {
    for (const status of [400, 422]) {
      answers['POST /api/v2/write'] = {
        status,
        body: '{"code":"invalid","message":"failure writing points: field type conflict"}',
        type: 'application/json',
      };
      const err = await writePoints(driver(), [lift, water]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreRejectedError);
      expect((err as StoreRejectedError).lines).toEqual(toLineProtocol([lift, water]).split('\n'));
      expect((err as StoreRejectedError).lines).toHaveLength(2);
      expect((err as Error).message).toMatch(/field type conflict/);
    }
  });

  it('never sends points that cannot be stored; sends the rest', async () => {
    const bad: Point = { ...lift, fields: { floor: 'third' } };
    const err = await writePoints(driver(), [bad, water]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreRejectedError);
    expect((err as StoreRejectedError).points).toEqual([bad]);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.body).toMatch(/^water_meter,/);
  });

  it('connect() finds an existing bucket, or creates it in the organisation', async () => {
    answers['GET /api/v2/buckets'] = {
      status: 200,
      body: '{"buckets":[{"id":"b1","name":"dutyroom/raw"}]}',
      type: 'application/json',
    };
    await driver().connect();
    expect(seen.map((s) => `${s.method} ${s.path}?${s.query}`)).toEqual([
      'GET /api/v2/buckets?org=estate+org&name=dutyroom%2Fraw',
    ]);
    expect(seen[0]!.headers.authorization).toBe('Token s3cr3t');

    seen = [];
    answers['GET /api/v2/buckets'] = { status: 200, body: '{"buckets":[]}', type: 'application/json' };
    answers['GET /api/v2/orgs'] = {
      status: 200,
      body: '{"orgs":[{"id":"0123abcd","name":"estate org"}]}',
      type: 'application/json',
    };
    answers['POST /api/v2/buckets'] = { status: 201, body: '{"id":"new"}', type: 'application/json' };
    await driver().connect();
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      'GET /api/v2/buckets',
      'GET /api/v2/orgs',
      'POST /api/v2/buckets',
    ]);
    expect(JSON.parse(seen[2]!.body)).toEqual({ orgID: '0123abcd', name: 'dutyroom/raw', retentionRules: [] });
  });

  it('connect() accepts a server without the bucket API (InfluxDB 3 creates databases on write)', async () => {
    answers['GET /ping'] = { status: 204 };
    await driver().connect();
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual(['GET /api/v2/buckets', 'GET /ping']);
  });

  it('connect() says what failed', async () => {
    answers['GET /api/v2/buckets'] = {
      status: 401,
      body: '{"code":"unauthorized","message":"unauthorized access"}',
      type: 'application/json',
    };
    await expect(driver().connect()).rejects.toThrow(
      /\(org "estate org", bucket "dutyroom\/raw"\): connecting \(create bucket if missing\) failed: HTTP 401/,
    );
  });

  it('queries with Flux, every value escaped, and reads typed rows in time order', async () => {
    answers['POST /api/v2/query'] = {
      status: 200,
      type: 'text/csv; charset=utf-8',
      body: [
        '#datatype,string,long,dateTime:RFC3339,long,string,boolean',
        '#group,false,false,false,false,false,false',
        '#default,_result,,,,,',
        ',result,table,_time,floor,door,occupied',
        ',,0,2023-11-14T22:13:20.12345Z,3,closed,true',
        ',,0,2023-11-14T22:13:21Z,4,,false',
        '',
      ].join('\r\n'),
    };
    const evil = 'x") |> drop() //';
    const rows = await driver().query({
      measurement: 'lift',
      deviceId: evil,
      from: 1_700_000_000_000,
      to: 1_700_000_060_000,
      fields: ['floor', 'door', 'occupied'],
      limit: 100,
    });
    expect(rows).toEqual([
      { time: '2023-11-14T22:13:20.123450Z', fields: { floor: 3, door: 'closed', occupied: true } },
      { time: '2023-11-14T22:13:21.000000Z', fields: { floor: 4, door: null, occupied: false } },
    ]);
    const req = seen[0]!;
    expect(req.query.get('org')).toBe('estate org');
    const flux = (JSON.parse(req.body) as { query: string }).query;
    expect(flux).toContain('from(bucket: "dutyroom/raw")');
    expect(flux).toContain('range(start: 2023-11-14T22:13:20.000Z, stop: 2023-11-14T22:14:20.000Z)');
    expect(flux).toContain('r.device == "x\\") |> drop() //"');
    expect(flux).toContain('set: ["floor","door","occupied"]');
    expect(flux).toContain('limit(n: 100)');
    await expect(
      driver().query({ measurement: 'lift', deviceId: 'a', from: 0, to: 1, fields: ['floor) |> drop('], limit: 1 }),
    ).rejects.toThrow(/unknown field/);
  });

  it('runs InfluxQL through /query: one statement per request, token auth, db/rp from the bucket, parameters bound', async () => {
    answers['POST /query'] = {
      status: 200,
      type: 'application/json',
      body: '{"results":[{"statement_id":0,"series":[{"name":"m","columns":["time","v"],"values":[[1000,1.5]]}]}]}',
    };
    const results = await driver().influxql(
      ['SELECT "v" FROM "m" WHERE "device" = $d', 'SELECT count("v") FROM "m" WHERE "building" = $b'],
      { d: "wm'1", b: 't1' },
    );
    expect(results).toEqual([
      { series: [{ name: 'm', columns: ['time', 'v'], values: [[1000, 1.5]] }] },
      { series: [{ name: 'm', columns: ['time', 'v'], values: [[1000, 1.5]] }] },
    ]);
    expect(seen.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /query', 'POST /query']);
    expect(seen.every((r) => r.headers.authorization === 'Token s3cr3t')).toBe(true);
    const bodies = seen.map((r) => Object.fromEntries(new URLSearchParams(r.body)));
    expect(bodies).toContainEqual({
      db: 'dutyroom',
      rp: 'raw',
      epoch: 'ms',
      q: `SELECT "v" FROM "m" WHERE "device" = 'wm\\'1'`,
    });
    expect(bodies.map((b) => b.q)).toContain(`SELECT count("v") FROM "m" WHERE "building" = 't1'`);

    seen = [];
    await driver({ bucket: 'readings', influxqlDatabase: 'estate' }).influxql(['SHOW MEASUREMENTS']);
    expect(Object.fromEntries(new URLSearchParams(seen[0]!.body))).toEqual({
      db: 'estate',
      q: 'SHOW MEASUREMENTS',
      epoch: 'ms',
    });
  });

  it('InfluxQL errors: the error of a statement is its answer; a refused request names the database', async () => {
    answers['POST /query'] = {
      status: 200,
      type: 'application/json',
      body: '{"results":[{"statement_id":0,"error":"unsupported call: tz"}]}',
    };
    expect(await driver().influxql(['SELECT 1'])).toEqual([{ error: 'unsupported call: tz' }]);
    answers['POST /query'] = {
      status: 404,
      type: 'application/json',
      body: '{"code":"not found","message":"no dbrp mapping found"}',
    };
    await expect(driver().influxql(['SELECT 1'])).rejects.toThrow(
      /bucket "dutyroom\/raw"\): InfluxQL query \(database "dutyroom"\) failed: HTTP 404: .*no dbrp mapping/,
    );
  });

  it('aggregates per interval with the 1.x statement, without the look-back rows', async () => {
    answers['POST /query'] = {
      status: 200,
      type: 'application/json',
      body: JSON.stringify({
        results: [
          {
            statement_id: 0,
            series: [
              {
                name: 'water_meter',
                columns: ['time', 'c0', 'c1'],
                values: [
                  [0, 1, null],
                  [3_600_000, 2, 0.5],
                  [7_200_000, null, 0.25],
                ],
              },
            ],
          },
        ],
      }),
    };
    const rows = await driver().aggregate({
      measurement: 'water_meter',
      deviceId: 'wm-1',
      from: 3_600_000,
      to: 10_800_000,
      everyMs: 3_600_000,
      timezone: 'Asia/Shanghai',
      columns: { flow: { field: 'flow_m3h', fn: 'mean' }, use: { field: 'total_m3', fn: 'use' } },
    });
    expect(rows).toEqual([
      { time: 3_600_000, values: { flow: 2, use: 0.5 } },
      { time: 7_200_000, values: { flow: null, use: 0.25 } },
    ]);
    const q = new URLSearchParams(seen[0]!.body).get('q')!;
    expect(q).toContain(`WHERE "device" = 'wm-1' AND time >= `);
    expect(q).toContain('NON_NEGATIVE_DIFFERENCE(LAST("total_m3")) AS "c1"');
    expect(q).toContain("GROUP BY time(3600s) fill(null) tz('Asia/Shanghai')");
  });
});
