import { describe, expect, it } from 'vitest';
import { TOKENS, bearer, json, loginCookie, testApi } from './testing.js';

// Issue 16, the HTTP doors: a cookie session cannot be used by another site's page to change
// anything (CSRF), and every response carries the security headers. (Ids in bodies are checked
// against the site: incidents.test.ts, alarms.test.ts.)

const reading = { device_id: 'wm-101', fields: { total_m3: 12.5 } };

describe('changes made with a session cookie must come from the gateway itself', () => {
  it("refuses another site's origin, a missing origin, and a forged referer; takes its own (or a Referer of its own page)", async () => {
    const { app } = await testApi();
    const cookie = await loginCookie(app, 'otto');
    const post = (headers: Record<string, string>) =>
      app.inject({ method: 'POST', url: '/api/readings', headers: { cookie, ...headers }, payload: reading });
    const evil = await post({ origin: 'http://evil.example' });
    expect(evil.statusCode).toBe(403);
    expect(json(evil).message).toBe(
      "a change made with a session cookie must come from this gateway's own page (Origin http://evil.example is not localhost:80)",
    );
    expect(json(await post({})).message).toMatch(/needs an Origin \(or Referer\) header/);
    expect((await post({ origin: 'null' })).statusCode).toBe(403);
    expect((await post({ referer: 'http://evil.example/localhost:80/' })).statusCode).toBe(403);
    expect((await post({ origin: 'http://localhost:80' })).statusCode).toBe(202);
    expect((await post({ origin: 'http://localhost' })).statusCode).toBe(202);
    expect((await post({ referer: 'http://localhost/#/incidents' })).statusCode).toBe(202);
    // Reads need no origin; API tokens are exempt (a browser never adds them by itself).
    expect((await app.inject({ url: '/api/devices', headers: { cookie } })).statusCode).toBe(200);
    expect(
      (await app.inject({ method: 'POST', url: '/api/readings', headers: bearer(TOKENS.meterbot), payload: reading }))
        .statusCode,
    ).toBe(202);
  });
});

describe('security headers on every response', () => {
  it('the page, the API, errors and /health: CSP self-only (no inline script but the page’s own), no framing, no sniffing, no referrer outside', async () => {
    const { app } = await testApi();
    for (const url of ['/', '/api/site', '/api/nothing-here', '/health']) {
      const res = await app.inject({ url, headers: bearer(TOKENS.dashboard) });
      const csp = String(res.headers['content-security-policy']);
      expect(csp, url).toContain("default-src 'self'");
      expect(csp, url).toContain("frame-ancestors 'none'");
      expect(csp, url).toMatch(/script-src 'self'( 'sha256-[A-Za-z0-9+/=]+')*;/);
      expect(csp, url).not.toContain("script-src 'self' 'unsafe-inline'");
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.headers['referrer-policy'], url).toBe('same-origin');
      expect(res.headers['x-frame-options'], url).toBe('SAMEORIGIN');
    }
  });
});
