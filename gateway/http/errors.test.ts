import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { describeValidation } from './errors.js';
import { PASSWORDS, TOKENS, bearer, json, loginCookie, testApi } from './testing.js';

/** A pino logger whose lines land in an array. */
function capturedLogger() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), text: () => lines.join('') };
}

describe('error answers', () => {
  it('answers 404 not_found for an unknown route, with or without credentials', async () => {
    const { app } = await testApi();
    for (const headers of [{}, bearer(TOKENS.dashboard)]) {
      const res = await app.inject({ url: '/api/nothing-here?x=1', headers });
      expect(res.statusCode).toBe(404);
      expect(json(res)).toEqual({ error: 'not_found', message: 'no such route: GET /api/nothing-here' });
    }
  });

  it('answers 400 bad_request for a body that is not JSON, and 415 for another media type', async () => {
    const { app } = await testApi();
    const headers = { ...bearer(TOKENS.meterbot), 'content-type': 'application/json' };
    const broken = await app.inject({
      method: 'POST',
      url: '/api/readings',
      headers,
      payload: '{"device_id": "wm-101",',
    });
    expect(broken.statusCode).toBe(400);
    expect(json(broken)).toMatchObject({ error: 'bad_request', message: expect.stringContaining('not valid JSON') });
    const xml = await app.inject({
      method: 'POST',
      url: '/api/readings',
      headers: { ...headers, 'content-type': 'text/xml' },
      payload: '<r/>',
    });
    expect(xml.statusCode).toBe(415);
    expect(json(xml).error).toBe('unsupported_media_type');
  });

  it('answers 500 internal_error without internals, and logs them', async () => {
    const log = capturedLogger();
    const { app } = await testApi({
      logger: log.logger,
      devices: {
        list: () => {
          throw new Error('registry corrupted at 0xdeadbeef');
        },
        get: () => undefined,
      },
    });
    const res = await app.inject({ url: '/api/devices', headers: bearer(TOKENS.dashboard) });
    expect(res.statusCode).toBe(500);
    expect(json(res)).toEqual({ error: 'internal_error', message: 'internal error; the gateway log has the details' });
    expect(log.text()).toContain('registry corrupted at 0xdeadbeef');
  });

  it('describes several validation problems in one readable line', () => {
    expect(
      describeValidation('body', [
        { instancePath: '/device_id', message: 'Invalid input: expected string, received undefined' },
        { instancePath: '/fields/total_m3', message: 'Invalid input: expected number, received NaN' },
        { instancePath: '', message: 'Unrecognized key: "x"' },
      ]),
    ).toBe('body.device_id: is required; body.fields.total_m3: is not a number; body: unrecognized key: "x"');
  });
});

describe('logging', () => {
  it('never writes passwords, tokens or session cookies', async () => {
    const log = capturedLogger();
    const { app } = await testApi({ logger: log.logger });
    const cookie = await loginCookie(app, 'otto');
    await app.inject({ method: 'POST', url: '/api/login', payload: { username: 'vera', password: PASSWORDS.vera } });
    await app.inject({ url: '/api/me', headers: { cookie } });
    await app.inject({ url: '/api/devices', headers: bearer(TOKENS.meterbot) });
    // Whatever a future handler decides to log, the redaction still holds.
    app.log.info(
      { req: { headers: { authorization: `Bearer ${TOKENS.meterbot}`, cookie } }, password: PASSWORDS.ada },
      'careless line',
    );
    app.log.info({ body: { username: 'ada', password: PASSWORDS.ada } }, 'another');

    const text = log.text();
    expect(text).toContain('careless line');
    expect(text).toContain('[redacted]');
    expect(text).toContain('"msg":"login"');
    for (const secret of [...Object.values(PASSWORDS), ...Object.values(TOKENS), cookie.split('=')[1]!])
      expect(text).not.toContain(secret);
  });
});
