import type { FastifyRequest } from 'fastify';
import type { Credentials } from '../auth/credentials.js';
import type { Principal } from '../auth/roles.js';
import type { SessionStore } from '../auth/sessions.js';
import type { AttemptThrottle } from '../auth/throttle.js';
import { tooManyAttempts, unauthorized } from './errors.js';

export const SESSION_COOKIE = 'dutyroom_session';

/** Finds the caller of a request: an API token (Authorization: Bearer) or a session cookie. */
export class RequestAuth {
  constructor(
    private readonly credentials: Credentials,
    private readonly sessions: SessionStore,
    /** Failed token attempts per client address: random tokens would each cost scrypt runs. */
    private readonly tokenThrottle: AttemptThrottle,
  ) {}

  /** The caller, or throws 401 (nobody / bad credentials) or 429 (too many bad tokens). */
  async authenticate(request: FastifyRequest): Promise<Principal> {
    const header = request.headers.authorization;
    if (header !== undefined) return this.bearer(header, request.ip);
    const sid = request.cookies[SESSION_COOKIE];
    if (sid) {
      const found = this.sessions.find(sid);
      if (found.ok) return found.session.principal;
      throw unauthorized(found.why === 'expired' ? 'session expired; log in again' : 'session unknown (logged out, or the gateway restarted); log in again');
    }
    throw unauthorized('log in first (POST /api/login) or send Authorization: Bearer <token>');
  }

  private async bearer(header: string, ip: string): Promise<Principal> {
    const m = /^Bearer +(\S+)$/i.exec(header);
    if (!m) throw unauthorized('the Authorization header must be "Bearer <token>"');
    const key = `token|${ip}`;
    const wait = this.tokenThrottle.waitSeconds(key);
    if (wait > 0) throw tooManyAttempts(wait);
    const principal = await this.credentials.token(m[1]!);
    if (!principal) {
      this.tokenThrottle.fail(key);
      throw unauthorized('unknown API token');
    }
    return principal;
  }
}
