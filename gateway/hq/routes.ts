import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { notFound } from '../http/errors.js';
import { openEventStream } from '../http/sse.js';
import type { Timers } from '../ports/clock.js';
import type { HqBoard } from './board.js';

// The head-office console's API, read-only: every site as the board shows it, one site with
// its recent events, and a live stream telling the page which site changed.

export interface HqRoutesOptions {
  board: HqBoard;
  /** Whether head office is connected to the shared broker (its own health). */
  connected: () => boolean;
  timers?: Timers;
}

const siteParams = z.strictObject({ id: z.string().min(1).max(100) });

export const hqRoutes: FastifyPluginAsyncZod<HqRoutesOptions> = async (app, opts) => {
  const { board } = opts;

  // Public like a gateway's /health: 503 while head office is cut from the shared broker.
  app.get('/health', { config: { access: 'public' } }, async (_request, reply) => {
    const up = opts.connected();
    return reply.code(up ? 200 : 503).send({ status: up ? 'ok' : 'down', broker: up ? 'connected' : 'disconnected' });
  });

  app.get('/api/hq/sites', async () => ({ sites: board.views(), refused: board.refused }));

  app.get(
    '/api/hq/sites/:id',
    {
      schema: {
        params: siteParams,
        querystring: z.strictObject({ events: z.coerce.number().int().min(0).max(10_000).default(200) }),
      },
    },
    async (request) => {
      const view = board.view(request.params.id);
      const state = board.state(request.params.id);
      if (!view || !state) throw notFound(`no site "${request.params.id}" in hq.yaml`);
      const n = request.query.events;
      return { ...view, events: n === 0 ? [] : state.events.slice(-n) };
    },
  );

  app.get(
    '/api/hq/stream',
    { schema: { querystring: z.strictObject({ last_event_id: z.coerce.number().int().min(0).optional() }) } },
    async (request, reply) => {
      let id = 0;
      openEventStream(
        request,
        reply,
        request.query.last_event_id,
        (send) => board.onChange((site) => send(++id, 'site', { site })),
        opts.timers,
      );
    },
  );
};
