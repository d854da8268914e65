// Writes rules/events/events.schema.json, the JSON Schema of the alarm and incident messages
// on MQTT, from the zod schemas in rules/events/schema.ts (run through `npm run events-schema`,
// which compiles first). rules/events/json-schema.test.ts fails while the file is behind.
import { writeFileSync } from 'node:fs';

const { eventsJsonSchema } = await import('../dist/rules/events/json-schema.js');
const file = new URL('../rules/events/events.schema.json', import.meta.url);
writeFileSync(file, JSON.stringify(eventsJsonSchema(), null, 2) + '\n');
console.log(`wrote ${file.pathname}`);
