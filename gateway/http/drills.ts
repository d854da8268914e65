import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DrillError, type DrillService } from '../ports/drills.js';

export type { DrillService } from '../ports/drills.js';
import { ApiError } from './errors.js';
import { errors } from './schemas/common.js';
import { drill, drills as drillsBody, scenarios } from './schemas/domain.js';

const NO_ESTATE =
  '此网关没有连接模拟园区，不能演练（演练需在 npm run demo 等带模拟园区的网关上进行） / This gateway runs no simulated estate, so it cannot run drills (they need `npm run demo` or another gateway started with a simulated estate)';

const params = z.strictObject({ id: z.string().min(1).max(64) });
const startBody = z.strictObject({ scenario: z.string().min(1).max(64) });

function asApiError(err: unknown): unknown {
  return err instanceof DrillError ? new ApiError(err.status, err.code, err.message, err.extra) : err;
}

/**
 * Drills (issue 4): list the scenarios, start one (operator), stop it, read the running drill
 * and the history with what was injected when and what was expected. The routes are there on
 * every gateway; without a simulated estate they say so (503 on the changes).
 */
export const drillRoutes: FastifyPluginAsyncZod<{ drills: DrillService | undefined; now: () => number }> = async (
  app,
  { drills, now },
) => {
  app.get('/api/drills/scenarios', { schema: { response: { 200: scenarios } } }, async () => {
    if (!drills) return { available: false, message: NO_ESTATE, scenarios: [] };
    return { available: drills.available(), scenarios: drills.scenarios() };
  });

  // `now` is the gateway's (simulated) time, so a client can tell how far a drill has run.
  app.get('/api/drills', { schema: { response: { 200: drillsBody } } }, async () => {
    if (!drills) return { available: false, message: NO_ESTATE, now: now(), current: null, history: [] };
    return { ...drills.status(), now: now() };
  });

  app.post(
    '/api/drills',
    { schema: { body: startBody, response: { 201: drill, ...errors(400, 404, 409, 422, 503) } } },
    async (request, reply) => {
      if (!drills) throw new ApiError(503, 'no_estate', NO_ESTATE);
      const by = request.principal!.username;
      try {
        const drill = await drills.start(request.body.scenario, by);
        request.log.warn(
          { drill: drill.id, scenario: drill.scenario, by },
          `drill ${drill.id} (${drill.scenario}) started by ${by}`,
        );
        return reply.code(201).send(drill);
      } catch (err) {
        throw asApiError(err);
      }
    },
  );

  app.post('/api/drills/stop', { schema: { response: { 200: drill, ...errors(409, 503) } } }, async (request) => {
    if (!drills) throw new ApiError(503, 'no_estate', NO_ESTATE);
    const by = request.principal!.username;
    try {
      const drill = await drills.stop(by);
      request.log.warn({ drill: drill.id, by }, `drill ${drill.id} stopped by ${by}`);
      return drill;
    } catch (err) {
      throw asApiError(err);
    }
  });

  app.get('/api/drills/:id', { schema: { params, response: { 200: drill, ...errors(400, 404) } } }, async (request) => {
    if (!drills)
      throw new ApiError(404, 'unknown_drill', `没有演练 "${request.params.id}" / No drill "${request.params.id}"`);
    try {
      return drills.get(request.params.id);
    } catch (err) {
      throw asApiError(err);
    }
  });
};
