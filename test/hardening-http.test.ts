import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEMO_LOGINS, type RunningDemo } from '../app/demo.js';
import { startTestDemo } from './support/demo.js';
import { heapAfterGc } from './support/memory.js';
import { arbitraryFor, hostile } from './support/schema-arbitrary.js';
import { systemClock } from '../gateway/ports/clock.js';

// Issue 16, the hardening suite, HTTP: every route of the demo gateway (so that drills and
// reports are there too), its params, query and body generated from its own schema — near
// valid and hostile — under every kind of caller: nobody, a forged token, a viewer's token, an
// admin's session with and without its Origin. No request may get a 5xx, memory stays bounded,
// and every refusal is counted in /metrics.

const RUNS_PER_ROUTE = Number(process.env.FUZZ_HTTP_RUNS ?? 150);
const SEED = Number(process.env.FUZZ_SEED ?? 20261202);

let demo: RunningDemo;
let cookie: string;
async function login(): Promise<string> {
  const admin = DEMO_LOGINS.users.find((u) => u.role === 'admin')!;
  const res = await demo.gateway.http.inject({
    method: 'POST',
    url: '/api/login',
    payload: { username: admin.username, password: admin.password },
  });
  if (res.statusCode !== 200) throw new Error(`login: ${res.statusCode} ${res.body}`);
  return `dutyroom_session=${res.cookies.find((c) => c.name === 'dutyroom_session')!.value}`;
}
beforeAll(async () => {
  demo = await startTestDemo({ influxUrl: inject('influxUrl'), speed: 1, start: systemClock.now() });
  cookie = await login();
}, 90_000);
afterAll(async () => demo?.stop());

type Caller = { name: string; headers: Record<string, string>; remoteAddress: string };

function callers(): fc.Arbitrary<Caller> {
  const stranger = fc
    .tuple(fc.integer({ min: 1, max: 254 }), fc.integer({ min: 1, max: 254 }))
    .map(([a, b]) => `10.77.${a}.${b}`);
  return fc.oneof(
    stranger.map((remoteAddress) => ({ name: 'nobody', headers: {}, remoteAddress })),
    fc.tuple(stranger, fc.string({ maxLength: 40 })).map(([remoteAddress, t]) => ({
      name: 'forged_token',
      headers: { authorization: `Bearer ${t}` },
      remoteAddress,
    })),
    fc.constant({
      name: 'viewer_token',
      headers: { authorization: `Bearer ${DEMO_LOGINS.apiToken}` },
      remoteAddress: '127.0.0.1',
    }),
    fc.constant({
      name: 'admin_session',
      headers: { cookie: '', origin: 'http://localhost:80' },
      remoteAddress: '127.0.0.1',
    }),
    stranger.map((remoteAddress) => ({
      name: 'admin_session_foreign_origin',
      headers: { cookie: '', origin: 'http://evil.example' },
      remoteAddress,
    })),
  );
}

/** Any value as text (objects without a prototype have no toString). */
function text(v: unknown): string {
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v) ?? 'undefined';
  } catch {
    return '?';
  }
}

/** Every byte percent-encoded (a lone surrogate goes as U+FFFD's bytes, as a browser would send it). */
const pct = (s: string) => [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');

function query(v: unknown): string {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return typeof v === 'string' ? `?${pct(v)}` : '';
  const pairs = Object.entries(v).flatMap(([k, x]) =>
    (Array.isArray(x) ? x : [x]).map((one) => `${pct(k)}=${pct(text(one))}`),
  );
  return pairs.length ? `?${pairs.join('&')}` : '';
}

function metricSum(text: string, name: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

describe('HTTP fuzz (issue 16)', () => {
  it(`every route, ${RUNS_PER_ROUTE} requests each from its schema and hostile values, every caller: no 5xx, memory bounded, refusals in /metrics`, async () => {
    const app = demo.gateway.http;
    // Live streams never end by themselves; they are fuzzed with an invalid query only (answered at once).
    const routes = app.routeCatalogue.filter((r) => r.method !== 'OPTIONS');
    expect(routes.length).toBeGreaterThan(30);
    const before = await app.inject({ url: '/metrics' });
    const heapBefore = heapAfterGc();
    const rssBefore = process.memoryUsage().rss;
    const statuses = new Map<number, number>();
    const fives: string[] = [];
    let requests = 0;
    let refusals = 0;
    for (const route of routes) {
      const stream = route.url.endsWith('/stream');
      const params = route.url.match(/:(\w+)/g)?.map((p) => p.slice(1)) ?? [];
      const paramArb = route.schema?.params ? arbitraryFor(route.schema.params) : fc.constant({});
      const queryArb = stream
        ? fc.constant({ after: 'not-a-number' })
        : route.schema?.querystring
          ? arbitraryFor(route.schema.querystring)
          : fc.option(hostile, { nil: undefined });
      const bodyArb =
        route.method === 'GET' || route.method === 'DELETE'
          ? fc.constant(undefined)
          : route.schema?.body
            ? arbitraryFor(route.schema.body)
            : hostile;
      const encoding = fc.constantFrom('json', 'json', 'json', 'text', 'none', 'huge');
      await fc.assert(
        fc.asyncProperty(
          callers(),
          paramArb,
          fc.array(
            fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('..', '%00', 'wm-101', 'lift-1', '__proto__')),
            { minLength: params.length, maxLength: params.length },
          ),
          queryArb,
          bodyArb,
          encoding,
          async (caller, p, fallback, q, body, enc) => {
            const values = p && typeof p === 'object' ? (p as Record<string, unknown>) : {};
            const url =
              route.url.replace(/:(\w+)/g, (_, name: string) =>
                pct(text(values[name] ?? fallback[params.indexOf(name)] ?? 'x')),
              ) + query(q);
            const headers: Record<string, string> = { ...caller.headers };
            if ('cookie' in headers) headers.cookie = cookie;
            const opts: InjectOptions = {
              method: route.method as InjectOptions['method'],
              url,
              headers,
              remoteAddress: caller.remoteAddress,
            };
            if (body !== undefined) {
              if (enc === 'json') opts.payload = text(body);
              else if (enc === 'text') opts.payload = text(body);
              else if (enc === 'huge') opts.payload = JSON.stringify({ x: 'y'.repeat(70 * 1024) });
              if (enc === 'json' || enc === 'huge') headers['content-type'] = 'application/json';
              if (enc === 'text') headers['content-type'] = 'text/plain';
            }
            const res = await app.inject(opts);
            // A logout ends the admin's session: log in again so the next routes are reached as admin.
            if (route.url === '/api/logout' && res.statusCode < 300 && headers.cookie) cookie = await login();
            requests++;
            statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
            if (res.statusCode >= 400) refusals++;
            if (res.statusCode >= 500)
              fives.push(`${route.method} ${url} as ${caller.name} → ${res.statusCode} ${res.body.slice(0, 200)}`);
            return res.statusCode < 500;
          },
        ),
        { numRuns: RUNS_PER_ROUTE, seed: SEED },
      );
    }
    const after = await app.inject({ url: '/metrics' });
    const rssAfter = process.memoryUsage().rss;
    const heapAfter = heapAfterGc();
    const counted =
      metricSum(after.body, 'dutyroom_http_refused_total') - metricSum(before.body, 'dutyroom_http_refused_total');
    console.log(
      `HTTP fuzz: ${JSON.stringify({ routes: routes.length, requests, statuses: Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])), refusals, counted, rssMiB: { before: rssBefore >> 20, after: rssAfter >> 20 }, heapAfterGcMiB: { before: heapBefore >> 20, after: heapAfter >> 20 }, externalMiB: process.memoryUsage().external >> 20, arrayBuffersMiB: process.memoryUsage().arrayBuffers >> 20 })}`,
    );
    expect(fives).toEqual([]);
    // Every 4xx counted (the two /metrics scrapes themselves are 200s).
    expect(counted).toBe(refusals);
    // The running demo itself grows a little meanwhile (alarms, live values); the requests keep
    // nothing. (RSS is reported, not bounded: in this process it mostly counts inject()'s copies
    // of response bodies, garbage that V8 keeps the room of.)
    expect(heapAfter - heapBefore).toBeLessThan(32 * 1024 * 1024);
  }, 600_000);
});
