import { describe, expect, it } from 'vitest';
import { DEVICE_KINDS, FIELDS } from './fields.js';

// The dashboard shows every field with the catalogue's words and units (no second list in
// the page), so the catalogue must have them all.
describe('field catalogue', () => {
  it('gives every measured number a unit, and every state of an enum its words in both languages', () => {
    for (const kind of DEVICE_KINDS) {
      for (const [name, def] of Object.entries(FIELDS[kind])) {
        expect(def.label.zh && def.label.en, `${kind}.${name} label`).toBeTruthy();
        if (def.type === 'float') expect(def.unit, `${kind}.${name} unit`).toMatch(/\S/);
        if (def.type === 'enum') {
          for (const v of def.values ?? [])
            expect(def.valueLabels?.[v], `${kind}.${name}=${v}`).toEqual({
              zh: expect.stringMatching(/\S/),
              en: expect.stringMatching(/\S/),
            });
        }
      }
    }
  });
});
