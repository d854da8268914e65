import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { drillReport } from '../../rules/incidents/drill-report.js';
import type { AlarmService } from './alarms.js';
import type { DrillService } from './drills.js';
import { ApiError } from './errors.js';
import type { IncidentService } from './incidents.js';
import { errors } from './schemas/common.js';
import { drillReport as drillReportSchema } from './schemas/domain.js';

const params = z.strictObject({ id: z.string().min(1).max(64) });

/**
 * GET /api/drills/:id/report: injected against planned, expected alarms against their due
 * times, each critical alarm's acknowledgement, every response step and task against its
 * target — met by people, closed by the sensors, late or missed.
 */
export const drillReportRoutes: FastifyPluginAsyncZod<{
  drills: DrillService;
  alarms: AlarmService;
  incidents: IncidentService;
  now: () => number;
}> = async (app, { drills, alarms, incidents, now }) => {
  app.get(
    '/api/drills/:id/report',
    { schema: { params, response: { 200: drillReportSchema, ...errors(400, 404) } } },
    async (request) => {
      let drill;
      try {
        drill = drills.get(request.params.id);
      } catch (err) {
        throw new ApiError(404, 'unknown_drill', (err as Error).message);
      }
      return drillReport(
        drill,
        alarms.firedInDrill(drill.id),
        alarms.criticalEpisodes(drill.id),
        incidents.list({ drill: true }),
        (id) => incidents.playbook(id),
        now(),
      );
    },
  );
};
