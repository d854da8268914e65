import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { Credentials } from '../auth/credentials.js';
import { SessionStore } from '../auth/sessions.js';
import { AttemptThrottle } from '../auth/throttle.js';
import { decideAccess, guard, type AccessTable } from './access.js';
import { alarmRoutes } from './alarms.js';
import { authRoutes } from './auth-routes.js';
import { RequestAuth } from './authenticate.js';
import type { ApiDeps } from './deps.js';
import { commandRoutes } from './commands.js';
import { dashboardRoutes, inlineScriptHashes } from './dashboard.js';
import { deviceRoutes } from './devices.js';
import { drillReportRoutes } from './drill-report.js';
import { drillRoutes } from './drills.js';
import { reportRoutes } from './reports.js';
import { errorHandler, notFoundHandler } from './errors.js';
import { handoverRoutes } from './handover.js';
import { heatingReportRoutes } from './heating-reports.js';
import { incidentCommandRoutes } from './incident-commands.js';
import { incidentPhotoRoutes } from './incident-photos.js';
import { incidentRoutes } from './incidents.js';
import { peopleOf } from '../incidents/people.js';
import { placeOf } from '../incidents/place.js';
import { httpLogger } from './logger.js';
import { registerOpenApi } from './openapi.js';
import { opsRoutes } from './ops-routes.js';
import { readingRoutes } from './readings.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** "METHOD /url" → who may call it, for every registered route. */
    routeAccess: AccessTable;
    /** Every route with its schema (zod: params, querystring, body), as registered: for the docs and the HTTP fuzz. */
    routeCatalogue: {
      method: string;
      url: string;
      schema?: { params?: unknown; querystring?: unknown; body?: unknown };
    }[];
  }
}

/**
 * The HTTP API, ready for `inject()` or `listen()` (which lives with the caller). Every route
 * gets its access decided when it is registered (see access.ts), so an area's plugin cannot
 * forget authentication.
 */
export async function build(deps: ApiDeps): Promise<FastifyInstance> {
  const app = newApp(deps);
  keepRouteCatalogue(app);
  // Before any route: the OpenAPI document collects the routes as they are registered.
  await registerOpenApi(app);
  await registerSecurityHeaders(app);
  const { credentials, sessions } = await registerAuthentication(app, deps);
  await app.register(opsRoutes, { health: deps.health, metrics: deps.metrics });
  await app.register(authRoutes, {
    credentials,
    sessions,
    loginThrottle: new AttemptThrottle(deps.clock, 5),
    sessionHours: deps.config.http.session_hours,
  });
  await registerAreas(app, deps);
  return app;
}

/** Fastify with zod schemas, the API's errors, and refusals of URLs the router cannot take. */
function newApp(deps: ApiDeps) {
  const app = Fastify({
    ...(deps.logger === false ? { logger: false } : { loggerInstance: httpLogger(deps.logger) as FastifyBaseLogger }),
    bodyLimit: 64 * 1024,
    // Live streams (SSE) never end by themselves: closing the gateway must not wait for them.
    forceCloseConnections: true,
    // A URL the router cannot take (bad percent-encoding, a path segment over 100 characters)
    // is refused before any route or hook: answered in the API's shape and counted here.
    frameworkErrors: (err, _request, reply) => {
      const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
      const status: 400 | 414 = tooLong ? 414 : 400;
      deps.metrics.httpRefused.inc({ route: 'none', status: String(status) });
      void (reply as FastifyReply).code(status).send({
        error: tooLong ? 'uri_too_long' : 'bad_url',
        message: tooLong
          ? 'a path segment is longer than 100 characters'
          : 'the URL is not valid (bad percent-encoding?)',
      });
    },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  return app;
}

type App = ReturnType<typeof newApp>;

/** Each route's access, decided as it is registered, and the catalogue of routes. */
function keepRouteCatalogue(app: App): void {
  const routeAccess: AccessTable = new Map();
  app.decorate('routeAccess', routeAccess);
  const routeCatalogue: FastifyInstance['routeCatalogue'] = [];
  app.decorate('routeCatalogue', routeCatalogue);
  app.addHook('onRoute', (route) => {
    decideAccess(route, routeAccess);
    for (const method of [route.method].flat())
      if (method !== 'HEAD')
        routeCatalogue.push({
          method,
          url: route.url,
          ...(route.schema ? { schema: route.schema as FastifyInstance['routeCatalogue'][number]['schema'] } : {}),
        });
  });
}

/** The security headers and CSP of every page this project serves (the gateway's and head office's). */
export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  // Security headers on every response: nothing framed (clickjacking), no type sniffing, no
  // referrer leaving the site, and a CSP under which the page runs its own files only.
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", ...inlineScriptHashes()],
        // The page sets a few style attributes (uPlot's canvases, layout): inline styles, no inline scripts.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    referrerPolicy: { policy: 'same-origin' },
    // Served over plain HTTP on closed networks as often as behind TLS: HSTS is the proxy's to set.
    strictTransportSecurity: false,
  });
}

/** Sessions and tokens: every request gets its principal (or is refused) before its route runs. */
async function registerAuthentication(app: App, deps: ApiDeps) {
  await app.register(cookie);
  const credentials = new Credentials(deps.config);
  const sessions = new SessionStore(deps.clock, deps.config.http.session_hours * 3_600_000);
  const auth = new RequestAuth(credentials, sessions, new AttemptThrottle(deps.clock, 20));
  // Every refusal is counted (route patterns and statuses are few: the labels stay bounded whatever is sent).
  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode >= 400)
      deps.metrics.httpRefused.inc({ route: request.routeOptions.url ?? 'none', status: String(reply.statusCode) });
  });
  app.decorateRequest('principal', null);
  app.addHook('onRequest', guard(auth));
  return { credentials, sessions };
}

/** One plugin per area; an area whose service the gateway was not given has no routes. */
async function registerAreas(app: App, deps: ApiDeps): Promise<void> {
  await app.register(deviceRoutes, { devices: deps.devices });
  await app.register(readingRoutes, deps);
  await app.register(commandRoutes, { commands: deps.commands, devices: deps.devices, now: () => deps.clock.now() });
  await app.register(dashboardRoutes, { config: deps.config, now: () => deps.clock.now() });
  await app.register(drillRoutes, { drills: deps.drills, now: () => deps.clock.now() });
  if (deps.reports) await app.register(reportRoutes, { reports: deps.reports });
  if (deps.heatingReports) {
    const n = deps.config.site.name;
    await app.register(heatingReportRoutes, {
      reports: deps.heatingReports,
      siteName: typeof n === 'string' ? n : `${n.zh} ${n.en}`,
    });
  }
  // Every id in a body is checked against the site (a 400 naming it), not just its shape.
  const known = {
    buildings: new Set(deps.config.buildings.map((b) => b.id)),
    devices: new Set(deps.config.devices.map((d) => d.id)),
  };
  if (deps.alarms)
    await app.register(alarmRoutes, {
      alarms: deps.alarms,
      now: () => deps.clock.now(),
      ...(deps.timers ? { timers: deps.timers } : {}),
      known,
    });
  if (deps.drills && deps.alarms && deps.incidents)
    await app.register(drillReportRoutes, {
      drills: deps.drills,
      alarms: deps.alarms,
      incidents: deps.incidents,
      now: () => deps.clock.now(),
    });
  if (deps.incidents) await registerIncidentAreas(app, deps, deps.incidents, known.buildings);
}

/** Incidents, their device commands, photos and the shift handover. */
async function registerIncidentAreas(
  app: App,
  deps: ApiDeps,
  incidents: NonNullable<ApiDeps['incidents']>,
  knownBuildings: ReadonlySet<string>,
): Promise<void> {
  const name = deps.config.site.name;
  await app.register(incidentRoutes, {
    incidents,
    ...(deps.timers ? { timers: deps.timers } : {}),
    timeZone: deps.config.site.timezone,
    siteName: typeof name === 'string' ? name : `${name.zh} ${name.en}`,
    place: placeOf(deps.config),
    building: (id) => {
      const b = deps.config.buildings.find((x) => x.id === id)?.name ?? id;
      return typeof b === 'string' ? { zh: b, en: b } : b;
    },
    knownUsers: new Set(deps.config.users.map((u) => u.username)),
    knownBuildings,
    people: peopleOf(deps.config),
    // Who a case may be handed to: everyone on duty (not viewers), by display name.
    assignable: deps.config.users
      .filter((u) => u.role !== 'viewer')
      .map((u) => ({
        username: u.username,
        ...(u.name ? { name: typeof u.name === 'string' ? { zh: u.name, en: u.name } : u.name } : {}),
      })),
    now: () => deps.clock.now(),
  });
  await app.register(incidentCommandRoutes, {
    incidents,
    commands: deps.commands,
    devices: deps.devices,
    now: () => deps.clock.now(),
  });
  if (deps.photos)
    await app.register(incidentPhotoRoutes, {
      incidents,
      photos: deps.photos,
      now: () => deps.clock.now(),
    });
  if (deps.handovers) {
    await app.register(handoverRoutes, {
      handovers: deps.handovers,
      incidents,
      users: deps.config.users.map((u) => ({
        username: u.username,
        role: u.role,
        ...(u.name ? { name: typeof u.name === 'string' ? { zh: u.name, en: u.name } : u.name } : {}),
      })),
      timeZone: deps.config.site.timezone,
      siteName: typeof name === 'string' ? name : `${name.zh} ${name.en}`,
      now: () => deps.clock.now(),
    });
  }
}
