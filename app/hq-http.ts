import cookie from '@fastify/cookie';
import Fastify, { type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { Credentials } from '../gateway/auth/credentials.js';
import { SessionStore } from '../gateway/auth/sessions.js';
import { AttemptThrottle } from '../gateway/auth/throttle.js';
import type { HqBoard } from '../gateway/hq/board.js';
import type { HqConfig } from '../gateway/hq/config.js';
import { hqRoutes } from '../gateway/hq/routes.js';
import { decideAccess, guard, type AccessTable } from '../gateway/http/access.js';
import { authRoutes } from '../gateway/http/auth-routes.js';
import { RequestAuth } from '../gateway/http/authenticate.js';
import { registerSecurityHeaders } from '../gateway/http/app.js';
import { dashboardRoutes } from '../gateway/http/dashboard.js';
import { siteConfig, type SiteConfig } from '../gateway/config/schema.js';
import { errorHandler, notFoundHandler } from '../gateway/http/errors.js';
import type { ClockAndTimers } from '../gateway/ports/clock.js';

// The head-office console's HTTP side, from the gateway's parts: the same security headers,
// logins (sessions and API tokens, scrypt hashes), access decided per route (every route here
// is a read: viewers may call all of them) and coded errors.

const SESSION_HOURS = 12;
/** The page's views/hq.ts HQ_SITE_ID (the page is compiled apart from the server). */
const HQ_SITE_ID = 'head-office';

export async function buildHqApp(deps: {
  config: Pick<HqConfig, 'users' | 'api_tokens' | 'timezone'>;
  board: HqBoard;
  connected: () => boolean;
  time: ClockAndTimers;
}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: 16 * 1024,
    forceCloseConnections: true,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  const table: AccessTable = new Map();
  app.addHook('onRoute', (route) => decideAccess(route, table));
  await registerSecurityHeaders(app);
  await app.register(cookie);
  const credentials = new Credentials({ users: deps.config.users, api_tokens: deps.config.api_tokens });
  const sessions = new SessionStore(deps.time, SESSION_HOURS * 3_600_000);
  app.decorateRequest('principal', null);
  app.addHook('onRequest', guard(new RequestAuth(credentials, sessions, new AttemptThrottle(deps.time, 20))));
  await app.register(authRoutes, {
    credentials,
    sessions,
    loginThrottle: new AttemptThrottle(deps.time, 5),
    sessionHours: SESSION_HOURS,
  });
  await app.register(hqRoutes, { board: deps.board, connected: deps.connected, timers: deps.time });
  // The same page as a site's, in its head-office mode (the site id below tells it so).
  await app.register(dashboardRoutes, { config: pageSite(deps.config.timezone), now: () => deps.time.now() });
  return app;
}

/** What the page's /api/site says at head office: its mode, name and time zone; no estate of its own. */
function pageSite(timezone: string): SiteConfig {
  return siteConfig.parse({
    site: { id: HQ_SITE_ID, name: { zh: '总部值班台', en: 'Head office' }, timezone },
    buildings: [{ id: 'head-office', name: { zh: '总部', en: 'Head office' }, floors: { lowest: 1, highest: 1 } }],
  });
}
