import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { readFileSync } from 'node:fs';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { projectPath } from '../files/paths.js';
import { API_DOCS } from './access.js';
import { OPERATIONS, TAGS } from './operations.js';

/** The OpenAPI document of the HTTP API, built from the routes' own zod schemas. */
export const OPENAPI_URL = '/api/openapi.json';

/** "/api/devices/:id" → "/api/devices/{id}", as the document names paths. */
export const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');

const SIGNED_IN = [{ session: [] }, { token: [] }];

/**
 * @fastify/swagger collects every route registered after it (so this comes first), with the
 * zod schemas turned into JSON Schema, the operation's id, group and summary from
 * operations.ts, and who may call it from the access decided for the route (access.ts). The
 * document and its browsable page (@fastify/swagger-ui, served from node_modules: nothing
 * from a CDN, and under the page's CSP) are public: they describe the API, never its data.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'dutyroom HTTP API',
        version: packageVersion(),
        description:
          '工程值班室网关的 HTTP 接口 / The HTTP API of the duty-room gateway. Errors are `{ error, message }`; ' +
          'people log in (session cookie), machines send `Authorization: Bearer <token>`.',
      },
      tags: TAGS.map((t) => ({ ...t })),
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'dutyroom_session', description: 'POST /api/login' },
          token: { type: 'http', scheme: 'bearer', description: 'an API token of the site file (api_tokens)' },
        },
      },
    },
    transform: (document) => {
      const out = jsonSchemaTransform(document);
      const schema = (out.schema ?? {}) as Record<string, unknown>;
      if (schema.hide) return out;
      return { ...out, schema: { ...schema, ...operationMeta(document.route) } };
    },
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, {
    routePrefix: API_DOCS,
    uiConfig: { deepLinking: true, tryItOutEnabled: false },
    theme: { title: 'dutyroom API' },
  });
  app.get(OPENAPI_URL, { schema: { hide: true }, config: { access: 'public' } }, async () => app.swagger());
}

/** The operation's id, tag, summary and security, from operations.ts and the route's access. */
function operationMeta(route: RouteOptions): Record<string, unknown> {
  const methods = [route.method].flat();
  const line = OPERATIONS[`${methods[0]} ${openApiPath(route.url)}`];
  const access = route.config?.access;
  const who =
    access === 'public'
      ? 'Public.'
      : `Role: ${access ?? 'viewer'} or above (session cookie or Bearer token; a change with a cookie needs the gateway's Origin).`;
  return {
    ...(line ? { operationId: line[0], tags: [line[1]], summary: line[2] } : {}),
    description: who,
    security: access === 'public' ? [] : SIGNED_IN,
    'x-role': access ?? 'viewer',
  };
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(projectPath('package.json'), 'utf8')) as { version: string }).version;
}
