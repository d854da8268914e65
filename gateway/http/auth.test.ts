import { beforeEach, describe, expect, it } from 'vitest';
import { PASSWORDS, TOKENS, bearer, json, loginCookie, testApi, type TestApi } from './testing.js';

describe('login sessions', () => {
  let t: TestApi;
  beforeEach(async () => {
    t = await testApi();
  });

  it('sets an HttpOnly, SameSite=Strict session cookie that /api/me accepts', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/login',
      payload: { username: 'vera', password: PASSWORDS.vera },
    });
    expect(res.statusCode).toBe(200);
    expect(json(res)).toEqual({ username: 'vera', role: 'viewer', name: { zh: '维拉', en: 'Vera' } });
    const cookie = res.cookies.find((c) => c.name === 'dutyroom_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/', maxAge: 8 * 3600 });
    expect(cookie.value.length).toBeGreaterThanOrEqual(40);

    const me = await t.app.inject({
      method: 'GET',
      url: '/api/me',
      headers: { cookie: `dutyroom_session=${cookie.value}` },
    });
    expect(me.statusCode).toBe(200);
    expect(json(me)).toEqual({ username: 'vera', role: 'viewer', name: { zh: '维拉', en: 'Vera' }, via: 'session' });
  });

  it('falls back to the login name when a user has no display name', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/login',
      payload: { username: 'ada', password: PASSWORDS.ada },
    });
    expect(json(res)).toEqual({ username: 'ada', role: 'admin', name: 'ada' });
  });

  it('answers 401 with one message for a wrong password and for an unknown user, and sets no cookie', async () => {
    const wrong = await t.app.inject({
      method: 'POST',
      url: '/api/login',
      payload: { username: 'vera', password: 'nope' },
    });
    const nobody = await t.app.inject({
      method: 'POST',
      url: '/api/login',
      payload: { username: 'mallory', password: 'nope' },
    });
    for (const res of [wrong, nobody]) {
      expect(res.statusCode).toBe(401);
      expect(json(res)).toEqual({ error: 'unauthorized', message: 'wrong username or password' });
      expect(res.cookies).toEqual([]);
    }
  });

  it('refuses a login body without a password, naming the field', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'vera' } });
    expect(res.statusCode).toBe(400);
    expect(json(res)).toEqual({ error: 'bad_request', message: 'body.password: is required' });
  });

  it('expires a session after http.session_hours on the injected clock', async () => {
    const cookie = await loginCookie(t.app, 'otto');
    t.clock.advance(8 * 3_600_000 - 1);
    expect((await t.app.inject({ url: '/api/me', headers: { cookie } })).statusCode).toBe(200);
    t.clock.advance(1);
    const res = await t.app.inject({ url: '/api/me', headers: { cookie } });
    expect(res.statusCode).toBe(401);
    expect(json(res)).toEqual({ error: 'unauthorized', message: 'session expired; log in again' });
  });

  it('logout ends the session on the server and clears the cookie', async () => {
    const cookie = await loginCookie(t.app, 'otto');
    const out = await t.app.inject({ method: 'POST', url: '/api/logout', headers: { cookie } });
    expect(out.statusCode).toBe(204);
    const cleared = out.cookies.find((c) => c.name === 'dutyroom_session')!;
    expect(cleared.value).toBe('');
    const res = await t.app.inject({ url: '/api/me', headers: { cookie } });
    expect(res.statusCode).toBe(401);
    expect(json(res).error).toBe('unauthorized');
  });

  it('refuses an unauthenticated request to /api/devices with 401', async () => {
    const res = await t.app.inject({ url: '/api/devices' });
    expect(res.statusCode).toBe(401);
    expect(json(res)).toEqual({
      error: 'unauthorized',
      message: 'log in first (POST /api/login) or send Authorization: Bearer <token>',
    });
    expect(res.headers['www-authenticate']).toContain('Bearer');
  });

  it('refuses a made-up session id', async () => {
    const res = await t.app.inject({ url: '/api/devices', headers: { cookie: 'dutyroom_session=forged' } });
    expect(res.statusCode).toBe(401);
  });
});

describe('API tokens', () => {
  let t: TestApi;
  beforeEach(async () => {
    t = await testApi();
  });

  it('lets a machine in with Authorization: Bearer and its role', async () => {
    const res = await t.app.inject({ url: '/api/me', headers: bearer(TOKENS.meterbot) });
    expect(res.statusCode).toBe(200);
    expect(json(res)).toEqual({ username: 'meterbot', role: 'operator', name: 'meterbot', via: 'token' });
    expect((await t.app.inject({ url: '/api/devices', headers: bearer(TOKENS.dashboard) })).statusCode).toBe(200);
  });

  it('refuses a wrong token and a malformed header with 401, even next to a valid session', async () => {
    const cookie = await loginCookie(t.app, 'ada');
    const wrong = await t.app.inject({ url: '/api/devices', headers: { ...bearer('tok-guess'), cookie } });
    expect(wrong.statusCode).toBe(401);
    expect(json(wrong)).toEqual({ error: 'unauthorized', message: 'unknown API token' });
    const basic = await t.app.inject({ url: '/api/devices', headers: { authorization: 'Basic dmVyYTp4' } });
    expect(basic.statusCode).toBe(401);
    expect(json(basic).message).toContain('Bearer <token>');
  });

  it('makes a client wait after 20 wrong tokens in a minute', async () => {
    for (let i = 0; i < 20; i++)
      expect((await t.app.inject({ url: '/api/devices', headers: bearer('tok-guess') })).statusCode).toBe(401);
    const res = await t.app.inject({ url: '/api/devices', headers: bearer(TOKENS.dashboard) });
    expect(res.statusCode).toBe(429);
    t.clock.advance(60_000);
    expect((await t.app.inject({ url: '/api/devices', headers: bearer(TOKENS.dashboard) })).statusCode).toBe(200);
  });
});

describe('login throttling', () => {
  it('answers 429 after 5 failures per username and address in a minute, then lets the user in again', async () => {
    const t = await testApi();
    const attempt = (username: string, password: string, remoteAddress = '10.0.0.7') =>
      t.app.inject({ method: 'POST', url: '/api/login', payload: { username, password }, remoteAddress });
    for (let i = 0; i < 5; i++) expect((await attempt('otto', `guess-${i}`)).statusCode).toBe(401);

    const blocked = await attempt('otto', PASSWORDS.otto);
    expect(blocked.statusCode).toBe(429);
    expect(json(blocked)).toEqual({
      error: 'too_many_attempts',
      message: 'too many failed attempts; try again in 60 s',
    });
    expect(blocked.headers['retry-after']).toBe('60');
    // Another user, or the same user from another address, is not held up.
    expect((await attempt('vera', PASSWORDS.vera)).statusCode).toBe(200);
    expect((await attempt('otto', PASSWORDS.otto, '10.0.0.8')).statusCode).toBe(200);

    t.clock.advance(30_000);
    expect(json(await attempt('otto', PASSWORDS.otto)).message).toContain('30 s');
    t.clock.advance(30_000);
    expect((await attempt('otto', PASSWORDS.otto)).statusCode).toBe(200);
  });
});
