import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HqBoard } from '../gateway/hq/board.js';
import { hqConfigSchema } from '../gateway/hq/config.js';
import { ManualClock } from '../gateway/ports/manual-clock.js';
import { buildHqApp } from './hq-http.js';

// The console's HTTP side: read-only, behind a login; a viewer's token reads every site.
const BRIDGE_HASH = 'scrypt$16384$8$1$kSaZZNu1Mp/BG0HK/0uwLw==$H1lJs3KS6QFRUWXUy8O4Urfc0WqnIr6LHOi5VSUZsqI=';
const TOKEN = 'secret-bridge';

const config = hqConfigSchema.parse({
  broker: { url: 'mqtt://127.0.0.1:1' },
  sites: [{ id: 'a', name: { zh: '甲', en: 'A' }, bridge_topic: 'hq/bridges/a' }],
  http: { port: 0 },
  api_tokens: [{ name: 'wall', token_hash: BRIDGE_HASH }],
});
const clock = new ManualClock(Date.parse('2026-12-02T08:00:00Z'));
const board = new HqBoard(config, clock);
let connected = true;
const app = await buildHqApp({ config, board, connected: () => connected, time: clock });
const auth = { authorization: `Bearer ${TOKEN}` };

beforeAll(() => app.ready());
afterAll(() => app.close());

describe('head-office API', () => {
  it('serves its pages under the gateway’s own security headers and CSP (one policy for both)', async () => {
    const res = await app.inject({ url: '/api/hq/sites', headers: auth });
    expect(res.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(res.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('refuses a caller without a login', async () => {
    expect((await app.inject({ url: '/api/hq/sites' })).statusCode).toBe(401);
  });

  it('shows a site unreachable since its bridge said 0, to a viewer', async () => {
    expect(config.api_tokens[0]!.role).toBe('viewer');
    board.apply('a', { type: 'bridge', at: clock.now(), up: false });
    const res = await app.inject({ url: '/api/hq/sites/a', headers: auth });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      site: 'a',
      name: { en: 'A' },
      link: { state: 'unreachable', since: clock.now(), why: 'bridge_down' },
      events: [],
    });
    expect((await app.inject({ url: '/api/hq/sites/b', headers: auth })).statusCode).toBe(404);
  });

  it('has no route that changes anything', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/hq/sites/a', headers: auth, payload: {} });
    expect(res.statusCode).toBe(404);
  });

  it('answers /health with 503 while cut from the shared broker', async () => {
    expect((await app.inject({ url: '/health' })).statusCode).toBe(200);
    connected = false;
    expect((await app.inject({ url: '/health' })).json()).toEqual({ status: 'down', broker: 'disconnected' });
  });
});
