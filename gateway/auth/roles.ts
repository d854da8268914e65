import { ROLES, type Role } from '../config/schema.js';

export { ROLES, type Role };

/** What a route asks of its caller: a least role, or nothing at all (`public`). */
export type Access = Role | 'public';

/** Ordered viewer < operator < admin, the order of `ROLES` in the site schema. */
export function roleAtLeast(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

/** Who made a request: a person logged in with a session, or a machine with an API token. */
export interface Principal {
  via: 'session' | 'token';
  /** The user's login name, or the API token's name. */
  username: string;
  role: Role;
  /** For people: their display name (falls back to the login name). */
  name: string | { zh: string; en: string };
  /** The duty roles of a person (site file `users[].duty_roles`); none for tokens. */
  dutyRoles?: readonly string[];
}
