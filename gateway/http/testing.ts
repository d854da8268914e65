// Test support for the HTTP API (not a test file): a site, real password hashes, a clock the
// test moves, the real device registry, and an in-memory stand-in for the InfluxDB query.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { hashPassword } from '../../broker/password.js';
import { siteConfig, type SiteConfig } from '../config/schema.js';
import type { HealthSource } from '../health.js';
import { Metrics } from '../metrics.js';
import { DeviceRegistry } from '../registry.js';
import type { ReadingsQuery, StoredRow } from '../store/driver.js';
import type { Reading } from '../../rules/model/reading.js';
import { build } from './app.js';
import { ManualClock } from '../ports/manual-clock.js';
import type { ApiDeps, IngestResult } from './deps.js';

export const PASSWORDS = {
  vera: 'vera-viewer-pw',
  otto: 'otto-operator-pw',
  ada: 'ada-admin-pw',
  max: 'max-operator-pw',
  mia: 'mia-duty-manager-pw',
} as const;
export const TOKENS = {
  dashboard: 'tok-dashboard-viewer-0123456789',
  meterbot: 'tok-meterbot-operator-0123456789',
} as const;

/** When the API's tests start, on their ManualClock. */
export const API_T0 = Date.parse('2025-01-15T08:00:00Z');

let hashes: Promise<Record<string, string>> | undefined;
/** scrypt is slow on purpose: hash each secret once per test file. */
function secretHashes(): Promise<Record<string, string>> {
  hashes ??= (async () => {
    const all = { ...PASSWORDS, ...TOKENS };
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(all)) out[k] = await hashPassword(v);
    return out;
  })();
  return hashes;
}

export async function testSite(): Promise<SiteConfig> {
  const h = await secretHashes();
  return siteConfig.parse({
    site: { id: 'testsite', name: 'Test estate' },
    buildings: [
      {
        id: 'b1',
        name: 'Building 1',
        floors: { lowest: -1, highest: 12 },
        units: [{ id: 'u101', floor: '1' }],
        rooms: [{ id: 'pr', floor: 'B1', type: 'pump_room' }],
      },
      { id: 'b2', name: 'Building 2', floors: { lowest: 1, highest: 6 } },
    ],
    devices: [
      {
        id: 'wm-101',
        kind: 'water_meter',
        protocol: 'mqtt',
        place: { building: 'b1', unit: 'u101' },
        publish_interval_s: 60,
      },
      { id: 'lift-a', kind: 'lift', protocol: 'mqtt', place: { building: 'b1' }, publish_interval_s: 10 },
      { id: 'pump-1', kind: 'pump', protocol: 'mqtt', place: { building: 'b1', room: 'pr' } },
      { id: 'leak-b2', kind: 'leak_sensor', protocol: 'mqtt', place: { building: 'b2', floor: '1' } },
    ],
    users: [
      { username: 'vera', role: 'viewer', name: { zh: '维拉', en: 'Vera' }, password_hash: h.vera },
      { username: 'otto', role: 'operator', name: 'Otto', password_hash: h.otto },
      { username: 'ada', role: 'admin', password_hash: h.ada },
      { username: 'max', role: 'operator', password_hash: h.max },
      { username: 'mia', role: 'operator', duty_roles: ['duty_manager'], password_hash: h.mia },
    ],
    api_tokens: [
      { name: 'dashboard', role: 'viewer', token_hash: h.dashboard },
      { name: 'meterbot', role: 'operator', token_hash: h.meterbot },
    ],
    http: { session_hours: 8 },
  });
}

/** Rows per device, answered like the store would: time window, fields, limit. */
export class MemoryReadings {
  readonly queries: ReadingsQuery[] = [];
  failWith: Error | undefined;
  constructor(private readonly rows: Record<string, { ms: number; fields: StoredRow['fields'] }[]> = {}) {}

  async query(q: ReadingsQuery): Promise<StoredRow[]> {
    this.queries.push(q);
    if (this.failWith) throw this.failWith;
    return (this.rows[q.deviceId] ?? [])
      .filter((r) => r.ms >= q.from && r.ms < q.to)
      .slice(0, q.limit)
      .map((r) => ({
        time: new Date(r.ms).toISOString(),
        fields: q.fields ? Object.fromEntries(q.fields.map((f) => [f, r.fields[f] ?? null])) : r.fields,
      }));
  }
}

export interface TestApi {
  app: FastifyInstance;
  clock: ManualClock;
  config: SiteConfig;
  registry: DeviceRegistry;
  readings: MemoryReadings;
  metrics: Metrics;
  /** What reached `deps.ingest`. */
  ingested: Reading[];
  /** Set to make ingest refuse the next readings. */
  refuse: { value: IngestResult | undefined };
}

export async function testApi(
  over: Partial<ApiDeps> & { rows?: ConstructorParameters<typeof MemoryReadings>[0]; health?: HealthSource[] } = {},
): Promise<TestApi> {
  const { rows, ...deps } = over;
  const clock = new ManualClock(API_T0);
  const config = await testSite();
  const registry = new DeviceRegistry(config, clock);
  const readings = new MemoryReadings(rows);
  const metrics = new Metrics();
  const ingested: Reading[] = [];
  const refuse: TestApi['refuse'] = { value: undefined };
  const app = await build({
    config,
    clock,
    timers: clock,
    metrics,
    health: [],
    devices: registry,
    readings,
    ingest: async (r) => {
      if (refuse.value) return refuse.value;
      ingested.push(r);
      registry.observe(r);
      return { accepted: true };
    },
    logger: false,
    ...deps,
  });
  return { app, clock, config, registry, readings, metrics, ingested, refuse };
}

/** Logs in and returns the Cookie header value to send back. */
export async function loginCookie(app: FastifyInstance, username: keyof typeof PASSWORDS): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/login',
    payload: { username, password: PASSWORDS[username] },
  });
  if (res.statusCode !== 200) throw new Error(`login ${username}: ${res.statusCode} ${res.body}`);
  const c = res.cookies.find((x) => x.name === 'dutyroom_session')!;
  return `dutyroom_session=${c.value}`;
}

/** Headers of a browser on the gateway's own page, logged in as `username`: its session cookie and its Origin (inject's host). */
export async function session(
  app: FastifyInstance,
  username: keyof typeof PASSWORDS,
): Promise<{ cookie: string; origin: string }> {
  return { cookie: await loginCookie(app, username), origin: 'http://localhost:80' };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export function json<T = Record<string, unknown>>(res: LightMyRequestResponse): T {
  return res.json() as T;
}
