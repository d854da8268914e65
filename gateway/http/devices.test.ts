import { beforeEach, describe, expect, it } from 'vitest';
import { TOKENS, bearer, json, testApi, type TestApi } from './testing.js';
import type { DeviceStatus } from './deps.js';

const viewer = bearer(TOKENS.dashboard);

describe('devices', () => {
  let t: TestApi;
  const ids = async (query = '') => {
    const res = await t.app.inject({ url: `/api/devices${query}`, headers: viewer });
    expect(res.statusCode, res.body).toBe(200);
    return json<{ devices: DeviceStatus[] }>(res).devices.map((d) => d.id);
  };

  beforeEach(async () => {
    t = await testApi();
    t.registry.observe({
      deviceId: 'lift-a',
      kind: 'lift',
      ts: t.clock.now() - 5_000,
      fields: { floor: 7, door: 'closed' },
      quality: 'good',
    });
  });

  it('lists every device with place and live state', async () => {
    expect(await ids()).toEqual(['wm-101', 'lift-a', 'pump-1', 'leak-b2']);
    const res = await t.app.inject({ url: '/api/devices', headers: viewer });
    const lift = json<{ devices: DeviceStatus[] }>(res).devices.find((d) => d.id === 'lift-a')!;
    expect(lift).toEqual({
      id: 'lift-a',
      kind: 'lift',
      protocol: 'mqtt',
      place: { building: 'b1' },
      online: true,
      lastSeen: '2025-01-15T08:00:00.000Z', // when it arrived; the reading itself is 5 s older
      lastReading: { ts: '2025-01-15T07:59:55.000Z', fields: { floor: 7, door: 'closed' }, quality: 'good' },
      intervalSeconds: 10,
      offlineAfterSeconds: 30,
    });
  });

  it('filters by building, kind and online', async () => {
    expect(await ids('?building=b2')).toEqual(['leak-b2']);
    expect(await ids('?kind=pump')).toEqual(['pump-1']);
    expect(await ids('?online=true')).toEqual(['lift-a']);
    expect(await ids('?online=false&building=b1')).toEqual(['wm-101', 'pump-1']);
    // Offline after 3 intervals without a reading, on the injected clock.
    t.clock.advance(30_000);
    expect(await ids('?online=true')).toEqual(['lift-a']);
    t.clock.advance(1);
    expect(await ids('?online=true')).toEqual([]);
  });

  it('refuses filters that cannot match anything sensible, naming them', async () => {
    const kind = await t.app.inject({ url: '/api/devices?kind=toaster', headers: viewer });
    expect(kind.statusCode).toBe(400);
    expect(json(kind).message).toMatch(/^querystring\.kind: invalid option: expected one of "water_meter"/);
    const online = await t.app.inject({ url: '/api/devices?online=yes', headers: viewer });
    expect(json(online)).toEqual({ error: 'bad_request', message: 'querystring.online: must be true or false' });
  });

  it('shows one device, and 404 for an unknown one', async () => {
    const one = await t.app.inject({ url: '/api/devices/wm-101', headers: viewer });
    expect(one.statusCode).toBe(200);
    expect(json(one)).toMatchObject({
      id: 'wm-101',
      kind: 'water_meter',
      place: { building: 'b1', floor: '1', unit: 'u101' },
      online: false,
      lastReading: null,
    });
    const none = await t.app.inject({ url: '/api/devices/wm-999', headers: viewer });
    expect(none.statusCode).toBe(404);
    expect(json(none)).toEqual({ error: 'not_found', message: 'no device "wm-999" in this site' });
  });
});
