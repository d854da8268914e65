import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Principal } from './roles.js';

export interface Session {
  principal: Principal;
  /** Epoch ms. */
  expiresAt: number;
}

export type SessionLookup = { ok: true; session: Session } | { ok: false; why: 'unknown' | 'expired' };

/**
 * Login sessions held in memory: a restart logs everyone out, which is acceptable for a duty
 * room that logs in at shift start. Only a digest of each session id is kept, so a heap dump
 * does not hand out live sessions.
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly clock: Clock,
    private readonly lifetimeMs: number,
  ) {}

  /** Opens a session and returns its id (the cookie value); the id is never stored. */
  open(principal: Principal): { id: string; expiresAt: number } {
    this.sweep();
    const id = randomBytes(32).toString('base64url');
    const expiresAt = this.clock.now() + this.lifetimeMs;
    this.sessions.set(digest(id), { principal, expiresAt });
    return { id, expiresAt };
  }

  find(id: string): SessionLookup {
    const key = digest(id);
    const session = this.sessions.get(key);
    if (!session) return { ok: false, why: 'unknown' };
    if (this.clock.now() >= session.expiresAt) {
      this.sessions.delete(key);
      return { ok: false, why: 'expired' };
    }
    return { ok: true, session };
  }

  close(id: string): boolean {
    return this.sessions.delete(digest(id));
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Drops expired sessions so that logins that never log out cannot grow the map forever. */
  private sweep(): void {
    const now = this.clock.now();
    for (const [key, s] of this.sessions) if (now >= s.expiresAt) this.sessions.delete(key);
  }
}

function digest(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}
