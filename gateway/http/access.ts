import type { FastifyRequest, RouteOptions } from 'fastify';
import { roleAtLeast, type Access, type Principal } from '../auth/roles.js';
import type { RequestAuth } from './authenticate.js';
import { ApiError, forbidden } from './errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; filled in by `decideAccess` when a route leaves it out. */
    access?: Access;
  }
  interface FastifyRequest {
    /** The caller, once the guard let the request through a non-public route. */
    principal: Principal | null;
  }
}

// Everything that is not a read is treated as a change, so a new verb cannot slip past.
const READS = new Set(['GET', 'HEAD']);

/**
 * The API's browsable documentation (@fastify/swagger-ui registers its page, assets and copy of
 * the document under it): reads there are public, like GET /api/openapi.json, since they
 * describe the routes and never the site's data.
 */
export const API_DOCS = '/api/docs';

/** "METHOD /url" → the access decided for it; one entry per method of every route. */
export type AccessTable = Map<string, Access>;

/**
 * The `onRoute` hook: gives every route an access decision when it is registered. Reads
 * default to viewer, changes to operator; a change may be declared public (login) but never
 * viewer-level. Reads of the API's documentation (API_DOCS) are public. A route whose URL has
 * parameters must validate them.
 */
export function decideAccess(route: RouteOptions, table: AccessTable): void {
  const methods = [route.method].flat().map((m) => m.toUpperCase());
  const changes = methods.some((m) => !READS.has(m));
  const where = `${methods.join(',')} ${route.url}`;
  const declared = route.config?.access;
  if (declared === 'viewer' && changes) {
    throw new Error(`${where}: a route that changes things needs role operator or admin, or an explicit 'public'`);
  }
  if (route.url.includes(':') && !route.schema?.params) {
    throw new Error(`${where}: a route with URL parameters needs a params schema`);
  }
  const docs = !changes && (route.url === API_DOCS || route.url.startsWith(`${API_DOCS}/`));
  const access: Access = declared ?? (docs ? 'public' : changes ? 'operator' : 'viewer');
  route.config = { ...route.config, access };
  // A plugin's '/' route under a prefix is also served with the trailing slash: fastify adds that
  // twin with the same options (so the same decision) without calling onRoute for it.
  const r = route as RouteOptions & { routePath?: string; prefix?: string };
  const urls = r.routePath === '' && r.prefix ? [route.url, `${route.url}/`] : [route.url];
  for (const m of methods) for (const url of urls) table.set(`${m} ${url}`, access);
}

/** The `onRequest` hook: authenticates and checks the role before anything parses input. */
export function guard(auth: RequestAuth) {
  return async (request: FastifyRequest): Promise<void> => {
    // Unknown URLs go straight to the 404 handler.
    if (request.is404) return;
    const access = request.routeOptions.config.access;
    // Fail closed: decideAccess runs for every route, so this is a bug, not a caller error.
    if (access === undefined) throw new ApiError(500, 'internal_error', 'route has no access decision');
    if (access === 'public') return;
    const principal = await auth.authenticate(request);
    if (!roleAtLeast(principal.role, access)) throw forbidden(`needs role ${access}`);
    request.principal = principal;
  };
}
