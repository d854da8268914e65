import { describe, expect, it } from 'vitest';
import type { Principal } from './roles.js';
import { SessionStore } from './sessions.js';
import { ManualClock } from '../ports/manual-clock.js';

const otto: Principal = { via: 'session', username: 'otto', role: 'operator', name: 'Otto' };

describe('SessionStore', () => {
  it('finds an open session until it expires, then says it expired', () => {
    const clock = new ManualClock(1000);
    const store = new SessionStore(clock, 60_000);
    const { id, expiresAt } = store.open(otto);
    expect(expiresAt).toBe(61_000);
    expect(store.find(id)).toEqual({ ok: true, session: { principal: otto, expiresAt } });
    clock.setTime(61_000);
    expect(store.find(id)).toEqual({ ok: false, why: 'expired' });
    expect(store.find(id)).toEqual({ ok: false, why: 'unknown' });
  });

  it('gives unguessable ids, closes sessions, and drops expired ones when new ones open', () => {
    const clock = new ManualClock(0);
    const store = new SessionStore(clock, 1000);
    const a = store.open(otto);
    const b = store.open(otto);
    expect(a.id).not.toBe(b.id);
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(store.close(a.id)).toBe(true);
    expect(store.find(a.id)).toEqual({ ok: false, why: 'unknown' });
    clock.setTime(5000);
    store.open(otto);
    expect(store.size).toBe(1);
  });
});
