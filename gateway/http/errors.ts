import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/**
 * An error the API answers on purpose. `code` is the stable, machine-readable `error` of the
 * JSON body; `message` is for people; `extra` adds fields (e.g. a refusal's `reason`).
 */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badRequest = (message: string) => new ApiError(400, 'bad_request', message);
export const unauthorized = (message: string) =>
  new ApiError(401, 'unauthorized', message, {}, { 'www-authenticate': 'Bearer realm="dutyroom"' });
export const forbidden = (message: string) => new ApiError(403, 'forbidden', message);
export const notFound = (message: string) => new ApiError(404, 'not_found', message);
export const tooManyAttempts = (waitSeconds: number) =>
  new ApiError(
    429,
    'too_many_attempts',
    `too many failed attempts; try again in ${waitSeconds} s`,
    {},
    { 'retry-after': String(waitSeconds) },
  );

/** Codes for fastify's own client errors (bad JSON, wrong content type, too large). */
const CLIENT_CODES: Record<number, string> = {
  400: 'bad_request',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

interface ValidationItem {
  instancePath: string;
  message?: string;
}

/** "querystring.from: not a time …; querystring.limit: …" from fastify's validation errors. */
export function describeValidation(part: string | undefined, items: readonly ValidationItem[]): string {
  return items
    .map((item) => {
      const field = item.instancePath.replace(/^\//, '').replaceAll('/', '.');
      let message = humanise(item.message ?? 'is not valid');
      // A repeated query parameter (?from=…&from=…) arrives as an array.
      if (part === 'querystring' && /received array$/.test(message)) message = 'is given more than once';
      return `${part ?? 'request'}${field ? `.${field}` : ''}: ${message}`;
    })
    .join('; ');
}

function humanise(message: string): string {
  // zod's "Invalid input: expected string, received undefined" means the field is missing.
  if (/received undefined$/.test(message)) return 'is required';
  if (/expected number, received NaN$/.test(message)) return 'is not a number';
  return message.charAt(0).toLowerCase() + message.slice(1);
}

export function errorHandler(err: FastifyError | ApiError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err instanceof ApiError) {
    return reply
      .code(err.statusCode)
      .headers(err.headers)
      .send({ error: err.code, message: err.message, ...err.extra });
  }
  if (err.validation) {
    return reply
      .code(400)
      .send({ error: 'bad_request', message: describeValidation(err.validationContext, err.validation) });
  }
  // fastify's own client errors carry safe, generic messages; anything else (a database
  // driver's error with a statusCode, say) is treated as internal and not echoed.
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500 && err.code?.startsWith('FST_')) {
    const message = status === 415 ? 'send JSON (content-type: application/json)' : err.message;
    return reply.code(status).send({ error: CLIENT_CODES[status] ?? 'bad_request', message });
  }
  request.log.error({ err }, 'request failed');
  return reply.code(500).send({ error: 'internal_error', message: 'internal error; the gateway log has the details' });
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const path = request.url.split('?')[0];
  return reply.code(404).send({ error: 'not_found', message: `no such route: ${request.method} ${path}` });
}
