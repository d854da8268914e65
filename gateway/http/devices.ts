import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DEVICE_KINDS } from '../../rules/model/fields.js';
import type { DeviceDirectory, DeviceStatus } from './deps.js';
import { notFound } from './errors.js';
import { errors } from './schemas/common.js';
import { deviceStatus } from './schemas/device.js';

export const deviceParams = z.strictObject({ id: z.string().min(1).max(64) });

const listQuery = z.strictObject({
  building: z.string().min(1).max(64).optional(),
  kind: z.enum(DEVICE_KINDS).optional(),
  online: z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .transform((v) => v === 'true')
    .optional(),
});

export function findDevice(devices: DeviceDirectory, id: string): DeviceStatus {
  const device = devices.get(id);
  if (!device) throw notFound(`no device "${id}" in this site`);
  return device;
}

/** GET /api/devices (filters: building, kind, online) and GET /api/devices/:id. */
export const deviceRoutes: FastifyPluginAsyncZod<{ devices: DeviceDirectory }> = async (app, { devices }) => {
  app.get(
    '/api/devices',
    {
      schema: {
        querystring: listQuery,
        response: { 200: z.object({ devices: z.array(deviceStatus) }), ...errors(400) },
      },
    },
    async (request) => {
      const { building, kind, online } = request.query;
      const list = devices
        .list()
        .filter(
          (d) =>
            (building === undefined || d.place.building === building) &&
            (kind === undefined || d.kind === kind) &&
            (online === undefined || d.online === online),
        );
      return { devices: list };
    },
  );

  app.get(
    '/api/devices/:id',
    { schema: { params: deviceParams, response: { 200: deviceStatus, ...errors(400, 404) } } },
    async (request) => findDevice(devices, request.params.id),
  );
};
