import type { FastifyRequest } from 'fastify';
import type { Credentials } from '../auth/credentials.js';
import type { Principal } from '../auth/roles.js';
import type { SessionStore } from '../auth/sessions.js';
import type { AttemptThrottle } from '../auth/throttle.js';
import { forbidden, tooManyAttempts, unauthorized } from './errors.js';

export const SESSION_COOKIE = 'dutyroom_session';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A change made with a session cookie must come from the gateway's own page: its Origin (or,
 * failing that, its Referer) names the host the request was sent to. API tokens are exempt:
 * a browser never adds them on its own.
 */
function checkOrigin(request: FastifyRequest): void {
  const from = request.headers.origin ?? request.headers.referer;
  let source: URL | undefined;
  let own: URL | undefined;
  try {
    source = from && from !== 'null' ? new URL(from) : undefined;
    // The host the request was sent to, read as the same scheme would (default ports dropped).
    own = source && request.headers.host ? new URL(`${source.protocol}//${request.headers.host}`) : undefined;
  } catch {
    source = undefined;
  }
  if (!source)
    throw forbidden(
      'a change made with a session cookie needs an Origin (or Referer) header: send it from the dashboard, or use an API token',
    );
  if (!own || source.host !== own.host)
    throw forbidden(
      `a change made with a session cookie must come from this gateway's own page (Origin ${from} is not ${request.headers.host ?? 'this host'})`,
    );
}

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
      if (found.ok) {
        // A browser sends the cookie on requests other sites make it send (CSRF); SameSite=Strict
        // stops the browsers that honour it, this stops the rest: a change needs our own origin.
        if (!READS.has(request.method)) checkOrigin(request);
        return found.session.principal;
      }
      throw unauthorized(
        found.why === 'expired'
          ? 'session expired; log in again'
          : 'session unknown (logged out, or the gateway restarted); log in again',
      );
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
