import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ComponentHealth, HealthSource } from '../health.js';
import type { Metrics } from '../metrics.js';
import { z } from 'zod';
import { other } from './schemas/common.js';

const componentHealth = z.looseObject({ status: z.enum(['ok', 'degraded', 'down']), detail: z.string().optional() });
const health = z.object({
  status: z.enum(['ok', 'degraded', 'down']),
  components: z.record(z.string(), componentHealth),
});

const RANK: Record<ComponentHealth['status'], number> = { ok: 0, degraded: 1, down: 2 };

/** The worst component wins: one component down makes the gateway report down. */
export function overallHealth(
  sources: readonly HealthSource[],
  onError: (component: string, err: unknown) => void = () => undefined,
): { status: ComponentHealth['status']; components: Record<string, ComponentHealth> } {
  const components: Record<string, ComponentHealth> = {};
  let status: ComponentHealth['status'] = 'ok';
  for (const source of sources) {
    let h: ComponentHealth;
    try {
      h = source.health();
    } catch (err) {
      onError(source.component, err);
      // /health is public: the reason goes to the log, not to whoever asks.
      h = { status: 'down', detail: 'health check failed (see the gateway log)' };
    }
    components[source.component] = h;
    if (RANK[h.status] > RANK[status]) status = h.status;
  }
  return { status, components };
}

/** GET /health and GET /metrics: public, for monitoring systems and load balancers. */
export const opsRoutes: FastifyPluginAsyncZod<{ health: HealthSource[]; metrics: Metrics }> = async (app, opts) => {
  app.get(
    '/health',
    { config: { access: 'public' }, schema: { response: { 200: health, 503: health } } },
    async (request, reply) => {
      const body = overallHealth(opts.health, (component, err) =>
        request.log.error({ err, component }, 'health check failed'),
      );
      return reply.code(body.status === 'ok' ? 200 : 503).send(body);
    },
  );

  app.get(
    '/metrics',
    { config: { access: 'public' }, schema: { response: { 200: other('Prometheus text format', 'text/plain') } } },
    async (_request, reply) => {
      const text = await opts.metrics.text();
      return reply.type(opts.metrics.registry.contentType).send(text);
    },
  );
};
