import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlarmJournal } from '../alarms/journal.js';
import { AlarmRuntime } from '../alarms/runtime.js';
import { SilenceBook } from '../alarms/silences.js';
import { EventLog } from '../files/event-log.js';
import { HandoverDesk } from '../incidents/handovers.js';
import { PhotoStore } from '../incidents/photos.js';
import { HeatingReportScheduler } from '../reports/heating-scheduler.js';
import { testIncidentRuntime } from '../incidents/runtime.testing.js';
import { ManualClock } from '../ports/manual-clock.js';
import type { HandoverEvent } from '../../rules/incidents/handover.js';
import { DrillController } from '../../simulators/drill/controller.js';
import { FakeEstate, SMALL_SCENARIO } from '../../simulators/scenarios/fake-estate.js';
import { parseScenarioFile } from '../../simulators/scenarios/load.js';
import { apiError } from './schemas/common.js';
import { OPENAPI_URL, openApiPath } from './openapi.js';
import { OPERATIONS } from './operations.js';
import type { MeterReportService } from './reports.js';
import { API_T0, TOKENS, bearer, session, testApi, testSite } from './testing.js';

// The OpenAPI document (GET /api/openapi.json) against the app itself: every route the app
// registers is in it with its id, group, summary and answers; and the answers of a seeded app
// (alarms, an incident, a silence, a drill, a handover) match the schemas it documents.

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
};
type Operation = {
  operationId?: string;
  tags?: string[];
  summary?: string;
  security?: unknown[];
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
};

const viewer = bearer(TOKENS.dashboard);
const cleanups: (() => Promise<unknown>)[] = [];
let app: FastifyInstance;
let doc: Doc;
let ajv: Ajv2020;
let otto: { cookie: string; origin: string };

/** The dashboard's own files, the docs page and the document itself are not operations of the API. */
const NOT_OPERATIONS = /^(\/|\/style\.css|\/app\/.*|\/vendor\/.*|\/api\/docs(\/.*)?|\/api\/openapi\.json)$/;

beforeAll(async () => {
  app = await seededApp();
  const res = await app.inject({ url: OPENAPI_URL });
  expect(res.statusCode).toBe(200);
  doc = res.json<Doc>();
  ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema(doc as object, 'openapi.json');
  otto = await session(app, 'otto');
  await seed();
}, 60_000);
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The API with every area wired: real alarms, incidents, handovers, drills and photos; empty reports. */
async function seededApp(): Promise<FastifyInstance> {
  const clock = new ManualClock(API_T0);
  const config = await testSite();
  const dir = mkdtempSync(join(tmpdir(), 'api-openapi-'));
  const alarms = new AlarmRuntime({
    config,
    clock,
    journal: new AlarmJournal(join(dir, 'a.jsonl')),
    silences: new SilenceBook(join(dir, 'silences.json')),
    linkDown: () => undefined,
    logger: pino({ level: 'silent' }),
    tickMs: 60_000,
  });
  await alarms.start();
  const incidents = await testIncidentRuntime({ config, clock, dir });
  const handovers = new HandoverDesk({
    log: new EventLog<HandoverEvent>(join(dir, 'handovers.jsonl')),
    incidents,
    rota: config.shifts,
    timeZone: config.site.timezone,
    now: () => clock.now(),
  });
  await handovers.start();
  const small = parseScenarioFile(SMALL_SCENARIO, 'small-outage.yaml');
  const drills = new DrillController({ scenarios: [{ scenario: small }], estate: new FakeEstate(clock.now()), clock });
  const heatingReports = new HeatingReportScheduler({
    config,
    dir: join(dir, 'reports'),
    clock,
    timers: clock,
    incidents: () => incidents.list({}),
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
  });
  await heatingReports.runDue();
  seeded.heatingDate = (await heatingReports.list())[0]?.date;
  // Meter reports need InfluxDB: without one they answer 503 (run) and 404 (stored), which is documented too.
  const reports: MeterReportService = {
    run: async () => Promise.reject(new Error('no database in this test')),
    stored: async () => [],
    read: async () => undefined,
  };
  const t = await testApi({
    clock,
    alarms,
    incidents,
    handovers,
    drills,
    heatingReports,
    reports,
    photos: new PhotoStore(join(dir, 'photos')),
  });
  cleanups.push(
    () => alarms.stop(),
    () => incidents.stop(),
    () => handovers.stop(),
    () => t.app.close(),
  );
  alarms.observe({
    deviceId: 'lift-a',
    kind: 'lift',
    ts: clock.now(),
    fields: { alarm_button: true, direction: 'stopped', mode: 'normal' },
    quality: 'good',
  });
  await alarms.settled();
  return t.app;
}

const seeded: {
  heatingDate?: string;
  incident?: string;
  drill?: string;
  handover?: string;
  alarm?: string;
  answers: Answer[];
} = {
  answers: [],
};
type Answer = { method: string; route: string; res: LightMyRequestResponse };

/** A few changes through the API itself (their answers are checked too): an incident, a silence, a drill, a handover. */
async function seed(): Promise<void> {
  const post = async (route: string, url: string, payload: object) => {
    const res = await app.inject({ method: 'POST', url, payload, headers: otto });
    seeded.answers.push({ method: 'post', route, res });
    return res;
  };
  const inc = await post('/api/incidents', '/api/incidents', { playbook: 'water_leak', building: 'b1', note: 'drip' });
  seeded.incident = inc.json<{ id: string }>().id;
  await post('/api/incidents/{id}/commands', `/api/incidents/${seeded.incident}/commands`, { type: 'acknowledge' });
  await post('/api/silences', '/api/silences', { match: { building: 'b2' }, reason: 'pump work', minutes: 30 });
  const drill = await post('/api/drills', '/api/drills', { scenario: 'small-outage' });
  seeded.drill = drill.json<{ id?: string }>().id;
  const ho = await post('/api/handover', '/api/handover', { to: 'max', note: 'all quiet' });
  seeded.handover = ho.json<{ id?: string }>().id;
  const list = await app.inject({ url: '/api/alarms', headers: viewer });
  seeded.alarm = list.json<{ alarms: { id: string }[] }>().alarms[0]?.id;
}

/** The documented schema of one answer, compiled from the served document (its $refs resolved there). */
function schemaOf(route: string, method: string, status: number, type = 'application/json') {
  const op = doc.paths[route]?.[method];
  const answer = op?.responses[String(status)];
  const media = answer?.content?.[type];
  if (!media) return undefined;
  const pointer = ['paths', route, method, 'responses', String(status), 'content', type, 'schema']
    .map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1'))
    .join('/');
  return ajv.compile({ $ref: `openapi.json#/${pointer}` });
}

function expectMatches(method: string, route: string, res: LightMyRequestResponse): void {
  const type = String(res.headers['content-type'] ?? '').split(';')[0]!;
  const validate = schemaOf(route, method, res.statusCode, type);
  expect(validate, `${method.toUpperCase()} ${route} ${res.statusCode} ${type} is documented`).toBeDefined();
  if (type !== 'application/json') return;
  const ok = validate!(res.json());
  expect(
    ok ? [] : validate!.errors,
    `${method.toUpperCase()} ${route} ${res.statusCode}: ${res.body.slice(0, 300)}`,
  ).toEqual([]);
}

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1, public, with the two ways in as security schemes', async () => {
    expect(doc.openapi).toBe('3.1.0');
    expect((await app.inject({ url: OPENAPI_URL })).statusCode).toBe(200);
    expect(Object.keys((doc.components as { securitySchemes?: object }).securitySchemes ?? {}).sort()).toEqual([
      'session',
      'token',
    ]);
  });

  it('has every route the app registers, with its id, group, summary, who may call it and a 2xx answer', () => {
    const routes = app.routeCatalogue.filter((r) => !NOT_OPERATIONS.test(r.url));
    expect(routes.length).toBeGreaterThan(50);
    const ids = new Set<string>();
    for (const { method, url } of routes) {
      const key = `${method} ${openApiPath(url)}`;
      const op = doc.paths[openApiPath(url)]?.[method.toLowerCase()];
      expect(op, `${key} is in the document`).toBeDefined();
      expect([op!.operationId, op!.tags, op!.summary], key).toEqual(
        OPERATIONS[key]?.map((v, i) => (i === 1 ? [v] : v)),
      );
      expect(ids.has(op!.operationId!), `${op!.operationId} is unique`).toBe(false);
      ids.add(op!.operationId!);
      const access = app.routeAccess.get(`${method} ${url}`);
      expect(op!.security, key).toEqual(access === 'public' ? [] : [{ session: [] }, { token: [] }]);
      expect(
        Object.keys(op!.responses).some((s) => /^2\d\d$/.test(s)),
        `${key} documents its 2xx answer`,
      ).toBe(true);
    }
    // And no line of operations.ts names a route that is not there.
    expect(
      Object.keys(OPERATIONS).filter((k) => !routes.some((r) => `${r.method} ${openApiPath(r.url)}` === k)),
    ).toEqual([]);
  });

  it('documents the error shape, and its example matches it', () => {
    const validate = ajv.compile({ $ref: 'openapi.json#/components/schemas/ApiError' });
    const examples = (doc.components.schemas.ApiError as { examples?: unknown[] }).examples ?? [];
    expect(examples.length).toBeGreaterThan(0);
    for (const e of examples) expect(validate(e), JSON.stringify(validate.errors)).toBe(true);
    expect(apiError.safeParse(examples[0]).success).toBe(true);
    expect(validate({ message: 'no code' })).toBe(false);
  });
});

describe('real answers of a seeded app match the document', () => {
  it('for the changes that seeded it', () => {
    expect(seeded.answers.map((a) => a.res.statusCode)).toEqual([201, 200, 201, 201, 201]);
    for (const { method, route, res } of seeded.answers) expectMatches(method, route, res);
  });

  it('for every GET of the API, as a viewer, with the seeded ids in the path', async () => {
    const ids: Record<string, string | undefined> = {
      '/api/devices/{id}': 'wm-101',
      '/api/alarms/{id}': seeded.alarm,
      '/api/incidents/{id}': seeded.incident,
      '/api/drills/{id}': seeded.drill,
      '/api/handovers/{id}': seeded.handover,
      '/api/reports/heating/{date}': seeded.heatingDate,
      '/api/reports/meters/stored/{name}': 'daily-2025-01-14',
    };
    const skip = /\/stream$|\/photos\/\{name\}$/; // server-sent events never end; no photo was taken
    let checked = 0;
    for (const r of app.routeCatalogue) {
      const route = openApiPath(r.url);
      if (r.method !== 'GET' || NOT_OPERATIONS.test(r.url) || skip.test(route)) continue;
      const id = Object.entries(ids).find(([k]) => route.startsWith(k))?.[1] ?? 'wm-101';
      const url = route.replace(/\{\w+\}/g, encodeURIComponent(id));
      const res = await app.inject({ url, headers: viewer });
      expect(res.statusCode, `GET ${url}: ${res.body.slice(0, 200)}`).toBeLessThan(500);
      expectMatches('get', route, res);
      checked++;
    }
    expect(checked).toBeGreaterThan(25);
  });

  it('for refusals: the error shape', async () => {
    const answers: Answer[] = [
      {
        method: 'get',
        route: '/api/devices/{id}',
        res: await app.inject({ url: '/api/devices/nope', headers: viewer }),
      },
      {
        method: 'get',
        route: '/api/alarms',
        res: await app.inject({ url: '/api/alarms?severity=x', headers: viewer }),
      },
      { method: 'get', route: '/api/me', res: await app.inject({ url: '/api/me' }) },
    ];
    expect(answers.map((a) => a.res.statusCode)).toEqual([404, 400, 401]);
    for (const { method, route, res } of answers) expectMatches(method, route, res);
  });
});
