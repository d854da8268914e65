import { z } from 'zod';
import { DEVICE_KINDS } from '../../../rules/model/fields.js';
import { QUALITIES } from '../../../rules/model/reading.js';
import { ROOM_TYPES } from '../../../rules/site-facts.js';
import { displayText } from './common.js';

// The devices and the site as the API sends them: GET /api/devices, GET /api/devices/:id and
// GET /api/site. Defined once: the registry builds `DeviceStatus`, the routes declare these
// schemas (so the OpenAPI document shows them), and the dashboard takes the types.

/** Where a device sits: building, then floor, unit (flat, shop) or room. */
export const place = z.object({
  building: z.string(),
  floor: z.string().optional(),
  unit: z.string().optional(),
  room: z.string().optional(),
});
export type Place = z.infer<typeof place>;

const fieldValue = z.union([z.number(), z.boolean(), z.string()]);

/** How polling a Modbus device goes (the adapter's counters); MQTT devices have none. */
export const pollStats = z.object({
  online: z.boolean().describe('the last finished poll got an answer'),
  lastOkAt: z.number().nullable().describe('epoch ms of the last poll that got an answer'),
  errors: z.number().describe('failed requests other than timeouts'),
  timeouts: z.number(),
  consecutiveFailures: z.number(),
  backoffUntil: z.number().nullable().describe('epoch ms before which the backed-off device is not polled'),
  lastError: z.string().optional(),
  polls: z.number(),
  skipped: z.number().describe('polls skipped because the previous one was still running'),
  endpoint: z.string().describe('the line (TCP endpoint or serial port) the device sits on'),
});

export const deviceStatus = z
  .object({
    id: z.string(),
    kind: z.enum(DEVICE_KINDS),
    name: displayText.optional(),
    protocol: z.enum(['mqtt', 'modbus']),
    place,
    online: z.boolean().describe('not silent for longer than its offline_intervals (rules/offline.ts)'),
    lastSeen: z.string().nullable().describe('ISO-8601: when the gateway last received a reading from it'),
    lastReading: z
      .object({ ts: z.string(), fields: z.record(z.string(), fieldValue), quality: z.enum(QUALITIES) })
      .nullable()
      .describe('the latest value of every field seen, with the newest time'),
    intervalSeconds: z.number().describe('poll or publish interval'),
    offlineAfterSeconds: z.number().describe('silent this long → offline'),
    poll: pollStats.optional(),
  })
  .meta({ id: 'Device' });
/** A device with its live state, as the registry builds it and the API sends it. */
export type DeviceStatus = z.infer<typeof deviceStatus>;

/** What feeds a device and what it is, from the site file (the estate picture). */
export const deviceTopology = z.object({
  id: z.string(),
  supplies: z.array(z.string()).describe('every meter above it, nearest first'),
  circuit: z.enum(['incomer', 'sub_circuit']).optional(),
  nominalVoltage: z.number().optional(),
  role: z.string().optional(),
  floorRange: z.object({ lowest: z.number(), highest: z.number() }).optional(),
});
export type DeviceTopology = z.infer<typeof deviceTopology>;

export const site = z
  .object({
    id: z.string(),
    name: displayText,
    timezone: z.string(),
    now: z.number().describe("the gateway's time, epoch ms (simulated in the demo)"),
    buildings: z.array(
      z.object({
        id: z.string(),
        name: displayText,
        floors: z.array(z.object({ id: z.string(), level: z.number(), name: displayText.optional() })),
        units: z.array(
          z.object({ id: z.string(), floor: z.string(), vacant: z.boolean(), name: displayText.optional() }),
        ),
        rooms: z.array(
          z.object({ id: z.string(), floor: z.string(), type: z.enum(ROOM_TYPES), name: displayText.optional() }),
        ),
      }),
    ),
    devices: z.array(deviceTopology),
  })
  .meta({ id: 'Site' });
/** GET /api/site: what the page needs to draw the estate and show times. */
export type Site = z.infer<typeof site>;
