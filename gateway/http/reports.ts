import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { MeterReport } from '../../rules/reports/meter-report.js';
import { ReportRequestError, type MeterReportRequest } from '../reports/run-meter-report.js';
import { CSV_TABLES, meterReportCsv, meterReportHtml } from '../reports/render.js';
import type { StoredReportInfo } from '../reports/scheduler.js';
import { ApiError } from './errors.js';
import { errors, formats } from './schemas/common.js';
import { meterReport, storedMeterReports } from './schemas/domain.js';

const meterFormats = formats(
  'the report: JSON (format=json), CSV (format=csv&table=…) or a printable page',
  meterReport,
  ['text/csv', 'text/html'],
);

/** Meter-anomaly reports as the API needs them; the gateway wires runMeterReport and the scheduler's archive. */
export interface MeterReportService {
  /** Throws ReportRequestError for a request that cannot be answered as asked. */
  run(req: MeterReportRequest): Promise<MeterReport>;
  stored(): Promise<StoredReportInfo[]>;
  read(name: string): Promise<MeterReport | undefined>;
}

const output = {
  format: z.enum(['json', 'csv', 'html']).default('json'),
  table: z.enum(CSV_TABLES).default('anomalies'),
};
const reportQuery = z.strictObject({
  from: z.string().max(32).optional(),
  to: z.string().max(32).optional(),
  building: z.string().min(1).max(64).optional(),
  ...output,
});
const storedParams = z.strictObject({ name: z.string().min(1).max(64) });

function send(
  reply: FastifyReply,
  report: MeterReport,
  name: string,
  format: 'json' | 'csv' | 'html',
  table: (typeof CSV_TABLES)[number],
) {
  switch (format) {
    case 'json':
      return report;
    case 'csv':
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${name}-${table}.csv"`)
        .send(meterReportCsv(report, table));
    case 'html':
      return reply.type('text/html; charset=utf-8').send(meterReportHtml(report));
  }
}

/**
 * Meter-anomaly reports (DOMAIN.md §5, issue 8): any period and building on demand (JSON for
 * the dashboard, CSV for spreadsheets, a printable page), and the scheduled daily and
 * monthly reports kept by the gateway.
 */
export const reportRoutes: FastifyPluginAsyncZod<{ reports: MeterReportService }> = async (app, { reports }) => {
  app.get(
    '/api/reports/meters',
    { schema: { querystring: reportQuery, response: { 200: meterFormats, ...errors(400, 503) } } },
    async (request, reply) => {
      const { from, to, building, format, table } = request.query;
      if (from === undefined || to === undefined) {
        throw new ApiError(
          400,
          'bad_report_request',
          '需要 from 和 to 日期，例如 ?from=2026-11-01&to=2026-11-30 / from and to dates are needed, e.g. ?from=2026-11-01&to=2026-11-30',
        );
      }
      let report: MeterReport;
      try {
        report = await reports.run({ from, to, ...(building !== undefined ? { building } : {}) });
      } catch (err) {
        if (err instanceof ReportRequestError) throw new ApiError(400, 'bad_report_request', err.message);
        request.log.error({ err }, 'meter report failed');
        throw new ApiError(
          503,
          'database_unavailable',
          `报告暂时无法生成（数据库无响应）/ the report cannot be made now: ${(err as Error).message}`,
        );
      }
      return send(reply, report, `meters-${from}_${to}${building ? `-${building}` : ''}`, format, table);
    },
  );

  app.get('/api/reports/meters/stored', { schema: { response: { 200: storedMeterReports } } }, async () => ({
    reports: await reports.stored(),
  }));

  app.get(
    '/api/reports/meters/stored/:name',
    {
      schema: {
        params: storedParams,
        querystring: z.strictObject(output),
        response: { 200: meterFormats, ...errors(400, 404) },
      },
    },
    async (request, reply) => {
      const report = await reports.read(request.params.name);
      if (!report)
        throw new ApiError(
          404,
          'unknown_report',
          `没有报告 "${request.params.name}" / no stored report "${request.params.name}"`,
        );
      return send(reply, report, request.params.name, request.query.format, request.query.table);
    },
  );
};
