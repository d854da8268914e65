import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isDate } from '../../rules/reports/calendar.js';
import { heatingReportHtml } from '../reports/heating-render.js';
import type { HeatingSchedule, StoredHeatingInfo, StoredHeatingReport } from '../reports/heating-scheduler.js';
import { ApiError } from './errors.js';
import { errors, formats } from './schemas/common.js';
import { heatingReport, heatingReports } from './schemas/domain.js';

/** The daily heating reports as the API needs them; the gateway wires the HeatingReportScheduler. */
export interface HeatingReportService {
  list(): Promise<StoredHeatingInfo[]>;
  read(date: string): Promise<StoredHeatingReport | undefined>;
  schedule(): HeatingSchedule;
}

const params = z.strictObject({ date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD') });
const query = z.strictObject({ format: z.enum(['json', 'html']).default('json') });

/**
 * The daily heating reports to head office (S000 篇八 四.2(4), zero reports included), as kept
 * by the gateway: the list with the season and the next run, and each one as JSON or as a
 * printable page in both languages.
 */
export const heatingReportRoutes: FastifyPluginAsyncZod<{ reports: HeatingReportService; siteName: string }> = async (
  app,
  { reports, siteName },
) => {
  app.get('/api/reports/heating', { schema: { response: { 200: heatingReports } } }, async () => ({
    ...reports.schedule(),
    reports: await reports.list(),
  }));

  app.get(
    '/api/reports/heating/:date',
    {
      schema: {
        params,
        querystring: query,
        response: {
          200: formats('the report: JSON or a printable page (format=html)', heatingReport, ['text/html']),
          ...errors(400, 404),
        },
      },
    },
    async (request, reply) => {
      const { date } = request.params;
      if (!isDate(date)) throw new ApiError(400, 'bad_date', `"${date}" 不是有效日期 / is not a date (YYYY-MM-DD)`);
      const stored = await reports.read(date);
      if (!stored)
        throw new ApiError(404, 'unknown_report', `没有 ${date} 的供热日报 / no heating report kept for ${date}`);
      if (request.query.format === 'html')
        return reply.type('text/html; charset=utf-8').send(heatingReportHtml(stored, siteName));
      return stored;
    },
  );
};
