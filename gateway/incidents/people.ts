import { roleText, type People } from '../../rules/incidents/report.js';
import type { SiteConfig } from '../config/schema.js';

// How timelines and reports name people: the site file's display name (else the login) and
// the first duty role on the rota ("Otto, duty engineer"). Unknown names (a deleted user, an
// older log) stay as written.

export function peopleOf(config: SiteConfig): People {
  const known = new Map(
    config.users.map((u) => {
      const name =
        u.name === undefined
          ? { zh: u.username, en: u.username }
          : typeof u.name === 'string'
            ? { zh: u.name, en: u.name }
            : u.name;
      const role = u.duty_roles[0];
      return [u.username, { name, ...(role ? { role: roleText(role) } : {}) }];
    }),
  );
  return (username) => known.get(username);
}
