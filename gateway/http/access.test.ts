import type { FastifyInstance, RouteOptions } from 'fastify';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { decideAccess, type AccessTable } from './access.js';
import { TOKENS, bearer, json, session, testApi } from './testing.js';

/** Every (method, url) fastify actually serves, read from its router, not from our own table. */
function registeredRoutes(app: FastifyInstance): { method: string; url: string }[] {
  const out: { method: string; url: string }[] = [];
  const path: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:[│ ] {3})*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    path.length = m[1]!.length / 4;
    path.push(m[2]!);
    for (const method of m[3]?.split(', ') ?? []) out.push({ method, url: path.join('') });
  }
  return out;
}

/**
 * printRoutes draws a wildcard route under its parent without the static part before the `*`
 * (`/api/docs/static/*` as `*` under `/api/docs/`): the one wildcard route of the table there.
 */
function wildcardKey(app: FastifyInstance, key: string): string {
  if (!key.endsWith('/*') || app.routeAccess.has(key)) return key;
  const under = [...app.routeAccess.keys()].filter((k) => k.startsWith(key.slice(0, -1)) && k.endsWith('/*'));
  return under.length === 1 ? under[0]! : key;
}

const PUBLIC = ['GET /health', 'HEAD /health', 'GET /metrics', 'HEAD /metrics', 'POST /api/login', 'POST /api/logout'];
const READS = new Set(['GET', 'HEAD']);

describe('every route has a role decision', () => {
  it('holds for each route the router serves: public ones are exactly the known few, the rest refuse strangers', async () => {
    const { app } = await testApi();
    await app.ready();
    const routes = registeredRoutes(app);
    expect(routes.length).toBeGreaterThanOrEqual(15);
    const publicOnes: string[] = [];
    for (const { method, url } of routes) {
      const key = wildcardKey(app, `${method} ${url}`);
      const access = app.routeAccess.get(key);
      expect(access, key).toBeDefined();
      if (!READS.has(method)) expect(['operator', 'admin', 'public'], key).toContain(access);
      if (access === 'public') {
        publicOnes.push(key);
        continue;
      }
      const concrete = url.replace(':id', 'wm-101');
      const stranger = await app.inject({ method: method as 'GET', url: concrete });
      expect(stranger.statusCode, `${key} without credentials`).toBe(401);
      if (!READS.has(method)) {
        const viewer = await app.inject({
          method: method as 'POST',
          url: concrete,
          headers: bearer(TOKENS.dashboard),
          payload: {},
        });
        expect(viewer.statusCode, `${key} as viewer`).toBe(403);
      }
    }
    // Besides these, only the dashboard's static files are public (GET/HEAD of the page, its modules and vendored libraries),
    // and the API's description: the OpenAPI document and its browsable page with its assets.
    const statics = publicOnes.filter((k) =>
      /^(GET|HEAD) (\/|\/style\.css|\/app\/[\w/.-]+|\/vendor\/[\w.-]+)$/.test(k),
    );
    expect(statics.length).toBeGreaterThan(4);
    const docs = publicOnes.filter((k) => /^(GET|HEAD) (\/api\/openapi\.json|\/api\/docs(\/[\w/.*-]*)?)$/.test(k));
    expect(docs).toContain('GET /api/openapi.json');
    expect(docs).toContain('GET /api/docs/');
    expect(publicOnes.filter((k) => !statics.includes(k) && !docs.includes(k)).sort()).toEqual([...PUBLIC].sort());
  });

  it('guards a route added later by another area plugin without it doing anything', async () => {
    const { app } = await testApi();
    await app.register(async (area) => {
      area.post('/api/incidents/:id/notes', { schema: { params: z.object({ id: z.string() }) } }, async () => ({
        ok: true,
      }));
      area.get('/api/incidents', async () => ({ incidents: [] }));
    });
    expect((await app.inject({ method: 'POST', url: '/api/incidents/7/notes' })).statusCode).toBe(401);
    expect(
      (await app.inject({ method: 'POST', url: '/api/incidents/7/notes', headers: bearer(TOKENS.dashboard) }))
        .statusCode,
    ).toBe(403);
    expect(
      (await app.inject({ method: 'POST', url: '/api/incidents/7/notes', headers: bearer(TOKENS.meterbot) }))
        .statusCode,
    ).toBe(200);
    expect((await app.inject({ url: '/api/incidents' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/incidents', headers: bearer(TOKENS.dashboard) })).statusCode).toBe(200);
  });
});

describe('decideAccess', () => {
  const route = (method: RouteOptions['method'], url: string, extra: Partial<RouteOptions> = {}): RouteOptions =>
    ({ method, url, handler: async () => null, ...extra }) as RouteOptions;

  it('defaults reads to viewer and every other method to operator', () => {
    const table: AccessTable = new Map();
    for (const m of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const)
      decideAccess(route(m, '/x'), table);
    decideAccess(route(['GET', 'POST'], '/both'), table);
    expect(Object.fromEntries(table)).toEqual({
      'GET /x': 'viewer',
      'HEAD /x': 'viewer',
      'POST /x': 'operator',
      'PUT /x': 'operator',
      'PATCH /x': 'operator',
      'DELETE /x': 'operator',
      'OPTIONS /x': 'operator',
      'GET /both': 'operator',
      'POST /both': 'operator',
    });
  });

  it('keeps an explicit decision and writes it into the route config', () => {
    const r = route('DELETE', '/users', { config: { access: 'admin' } });
    decideAccess(r, new Map());
    expect(r.config?.access).toBe('admin');
  });

  it('refuses a changing route declared viewer-level, and a parameter without a schema', () => {
    expect(() => decideAccess(route('POST', '/notes', { config: { access: 'viewer' } }), new Map())).toThrow(
      /needs role operator or admin/,
    );
    expect(() => decideAccess(route('GET', '/things/:id'), new Map())).toThrow(/needs a params schema/);
  });
});

describe('roles on POST /api/readings', () => {
  const reading = { device_id: 'wm-101', fields: { total_m3: 12.5 } };

  it('forbids a viewer (403, naming the role needed) and accepts an operator (202)', async () => {
    const { app, ingested } = await testApi();
    const viewer = await app.inject({
      method: 'POST',
      url: '/api/readings',
      headers: await session(app, 'vera'),
      payload: reading,
    });
    expect(viewer.statusCode).toBe(403);
    expect(json(viewer)).toEqual({ error: 'forbidden', message: 'needs role operator' });
    expect(ingested).toEqual([]);

    const operator = await app.inject({
      method: 'POST',
      url: '/api/readings',
      headers: await session(app, 'otto'),
      payload: reading,
    });
    expect(operator.statusCode).toBe(202);
    const admin = await app.inject({
      method: 'POST',
      url: '/api/readings',
      headers: await session(app, 'ada'),
      payload: reading,
    });
    expect(admin.statusCode).toBe(202);
    expect(ingested).toHaveLength(2);
  });

  it('checks the role before the body: a viewer learns nothing from validation', async () => {
    const { app } = await testApi();
    const res = await app.inject({
      method: 'POST',
      url: '/api/readings',
      headers: bearer(TOKENS.dashboard),
      payload: { nonsense: true },
    });
    expect(res.statusCode).toBe(403);
  });
});
