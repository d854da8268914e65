import { createServer, type Server } from 'node:http';
import { Point as ClientPoint } from '@influxdata/influxdb-client';
import { InfluxDB } from 'influx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVICE_KINDS, FIELDS } from '../../rules/model/fields.js';
import { influxSchemas } from './influx1.js';
import { QUALITY_FIELD, storedFieldType, unstorable } from './influx-schema.js';
import { toLineProtocol } from './line-protocol.js';
import type { Point } from './driver.js';

// Our serializer must say exactly what the two client libraries would say with the field
// types fixed from the catalogue: node-influx with its `schema` option (1.x) and the 2.x
// client's Point with typed field setters. Both are the reference here.

let seed = 42;
const rnd = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
const ODD = ['plain', 'with space', 'comma,here', 'eq=sign', 'quote"d', 'back\\slash', '楼 1', 'a, b= c'];

function randomPoint(i: number): Point {
  const kind = pick(DEVICE_KINDS);
  const fields: Point['fields'] = {};
  for (const [name, def] of Object.entries(FIELDS[kind])) {
    if (rnd() < 0.4) continue;
    fields[name] =
      def.type === 'float'
        ? pick([0, 12, -3.5, 1e21, 1.5e-7, 230.123456789, rnd() * 1000])
        : def.type === 'int'
          ? pick([0, 7, -20, 65535])
          : def.type === 'bool'
            ? rnd() < 0.5
            : pick(ODD);
  }
  if (Object.keys(fields).length === 0 || rnd() < 0.2) fields[QUALITY_FIELD] = pick(['uncertain', 'bad']);
  // Tags inserted in name order: node-influx keeps insertion order, we sort.
  const tags: Record<string, string> = {};
  tags.building = pick(ODD);
  // Few devices, so that the series cache is hit, and sometimes with other tags than before.
  tags.device = `dev ${pick(ODD)} ${i % 7}`;
  if (rnd() < 0.5) tags.floor = pick(['1', 'B1', '-2']);
  if (rnd() < 0.3) tags.room = pick(ODD);
  tags.site = pick(ODD);
  if (rnd() < 0.3) tags.unit = pick(ODD);
  return { measurement: kind, tags, fields, tsUs: 1_700_000_000_000_000 + i * 1_001 };
}

const points = Array.from({ length: 2000 }, (_, i) => randomPoint(i));

let server: Server;
let url: string;
let lastBody = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      lastBody = body;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('toLineProtocol', () => {
  it('every generated point is storable', () => {
    expect(points.map(unstorable).filter(Boolean)).toEqual([]);
  });

  it('says what node-influx says with the catalogue schema (InfluxDB 1.x)', async () => {
    const influx = new InfluxDB({
      host: '127.0.0.1',
      port: Number(new URL(url).port),
      database: 'db',
      schema: influxSchemas('db'),
    });
    await influx.writePoints(
      points.map((p) => ({ measurement: p.measurement, tags: p.tags, fields: p.fields, timestamp: p.tsUs })),
      { precision: 'u' },
    );
    expect(toLineProtocol(points)).toBe(lastBody);
  });

  it('says what the 2.x client’s typed Point says', () => {
    const theirs = points.map((p) => {
      const line = new ClientPoint(p.measurement);
      for (const [k, v] of Object.entries(p.tags)) line.tag(k, v);
      for (const [k, v] of Object.entries(p.fields)) {
        const type = storedFieldType(p.measurement, k);
        if (type === 'float') line.floatField(k, v);
        else if (type === 'int') line.intField(k, v);
        else if (type === 'bool') line.booleanField(k, v as boolean);
        else line.stringField(k, v);
      }
      return line.timestamp(String(p.tsUs)).toLineProtocol();
    });
    expect(toLineProtocol(points).split('\n')).toEqual(theirs);
  });

  it('types by the catalogue, not by the value', () => {
    const p: Point = {
      measurement: 'water_meter',
      tags: { device: 'm' },
      fields: { total_m3: 12, error_code: 12, leak: true },
      tsUs: 5,
    };
    expect(toLineProtocol([p])).toBe('water_meter,device=m error_code=12i,leak=T,total_m3=12 5');
  });
});
