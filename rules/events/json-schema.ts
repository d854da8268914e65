import { z } from 'zod';
import { alarmStateSchema, busEventSchema, EVENTS_VERSION, incidentStateSchema, siteStatusSchema } from './schema.js';

// The JSON Schema of everything the gateway publishes on the bus, generated from the zod
// schemas (schema.ts) so the two cannot drift: `npm run events-schema` writes it to
// events.schema.json beside this file, a test checks that file is what this makes, and the
// gateway publishes it retained on dutyroom/<site>/schema.

export function eventsJsonSchema(): Record<string, unknown> {
  const of = (schema: z.ZodType) => z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'output' });
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: `dutyroom alarms and incidents on MQTT, version ${EVENTS_VERSION}`,
    description:
      'One schema per topic: dutyroom/<site>/alarms/<alarm id> (alarm), dutyroom/<site>/incidents/<incident id> (incident), dutyroom/<site>/events (event), dutyroom/<site>/status (status). Times are ISO-8601 with the site offset.',
    $defs: {
      alarm: strip(of(alarmStateSchema)),
      incident: strip(of(incidentStateSchema)),
      event: strip(of(busEventSchema)),
      status: strip(of(siteStatusSchema)),
    },
  };
}

/** Each part without its own `$schema` (the document's one applies). */
function strip(s: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _, ...rest } = s;
  return rest;
}
