import { z } from 'zod';

// Shapes many answers share. The dashboard takes the types derived here (type imports only),
// so this file imports nothing but zod and the pure rules/.

/** A name in both languages (or one string where the site file gives one). */
export const bilingual = z.object({ zh: z.string(), en: z.string() });
export const displayText = z.union([z.string(), bilingual]);

/**
 * Every error the API answers: a stable `error` code, a `message` for people, and what some
 * refusals add (`reason`, `text: { zh, en }`, `outcome`…). Loose on purpose: the extras pass.
 */
export const apiError = z
  .looseObject({
    error: z.string().describe('stable, machine-readable code (errors.ts)'),
    message: z.string().describe('for people; names the part and field of a bad request'),
  })
  .meta({
    id: 'ApiError',
    description: 'Refused: `error` names the problem, `message` explains it',
    examples: [{ error: 'bad_request', message: 'querystring.to: must be after from' }],
  });
export type ApiErrorBody = z.infer<typeof apiError>;

/** The error answers of a route, by status: `{ 400: apiError, 404: apiError }`. */
export function errors<S extends number>(...statuses: S[]): Record<S, typeof apiError> {
  return Object.fromEntries(statuses.map((s) => [s, apiError])) as Record<S, typeof apiError>;
}

/** An answer in another format than JSON (a printable page, CSV, Prometheus text). */
export const textBody = z.string();

/** An answer whose body is another format (a page, CSV) or empty: documented by its description. */
export const noContent = z.undefined().describe('no body');

/** Server-sent events (text/event-stream): each event's `data` is JSON; reconnect with Last-Event-ID. */
export const eventStream = {
  description: 'server-sent events; each `data` is one JSON object, `id` its sequence number',
  content: { 'text/event-stream': { schema: z.string() } },
};

/** A 200 answered in one of several formats: JSON (the default, described by `json`), CSV or a printable page. */
export function formats<T extends z.ZodType>(description: string, json: T, others: ('text/csv' | 'text/html')[]) {
  return {
    description,
    content: {
      'application/json': { schema: json },
      ...Object.fromEntries(others.map((type) => [type, { schema: textBody }])),
    },
  };
}

/** A 200 that is only a printable page (text/html) or another non-JSON body. */
export function other(description: string, type: string) {
  return { description, content: { [type]: { schema: textBody } } };
}
