import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { eventsJsonSchema } from './json-schema.js';

describe('the published JSON Schema', () => {
  it('is what the zod schemas make (run `npm run events-schema` after changing them)', () => {
    const committed: unknown = JSON.parse(readFileSync(new URL('./events.schema.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(eventsJsonSchema())));
  });
});
