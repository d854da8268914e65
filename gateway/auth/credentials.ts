import { randomBytes } from 'node:crypto';
import { PasswordChecker } from '../../broker/password.js';
import type { SiteConfig } from '../config/schema.js';
import type { Principal } from './roles.js';

// A well-formed hash no password matches: unknown users are checked against it so that
// "no such user" costs the same scrypt run as "wrong password" and cannot be told apart by time.
const NOBODY = `scrypt$16384$8$1$${randomBytes(16).toString('base64')}$${randomBytes(32).toString('base64')}`;

/**
 * Checks people (users of the site file) and machines (API tokens) against their scrypt
 * hashes. Outcomes are remembered by the broker's PasswordChecker, so a dashboard polling
 * with a token does not pay ~50 ms of scrypt on every request.
 */
export class Credentials {
  private readonly checker = new PasswordChecker({ concurrency: 2 });

  constructor(private readonly config: Pick<SiteConfig, 'users' | 'api_tokens'>) {}

  async login(username: string, password: string): Promise<Principal | undefined> {
    const user = this.config.users.find((u) => u.username === username);
    const ok = await this.checker.verify(`user:${username}`, password, user?.password_hash ?? NOBODY);
    if (!user || !ok) return undefined;
    return {
      via: 'session',
      username: user.username,
      role: user.role,
      name: user.name ?? user.username,
      dutyRoles: user.duty_roles,
    };
  }

  /** The API token this secret belongs to; tokens have no name on the wire, so each is tried. */
  async token(secret: string): Promise<Principal | undefined> {
    for (const t of this.config.api_tokens) {
      if (await this.checker.verify(`token:${t.name}`, secret, t.token_hash)) {
        return { via: 'token', username: t.name, role: t.role, name: t.name };
      }
    }
    return undefined;
  }
}
