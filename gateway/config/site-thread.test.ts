import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from './load.js';
import { DEFAULT_CONFIG, loadSite } from './site.js';
import { loadSiteInThread } from './site-thread.js';

// The gateway loads its site file in a thread of its own (the YAML parser's garbage goes with
// the thread). It must answer exactly as loadSite does, errors included. The thread runs the
// build in dist/, which `npm test` makes first.

const dir = mkdtempSync(join(tmpdir(), 'site-thread-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { DUTYROOM_DATA_DIR: '/tmp' };

describe('loadSiteInThread', () => {
  it('gives the config loadSite gives, environment substitution included', async () => {
    const inThread = await loadSiteInThread(DEFAULT_CONFIG, env);
    expect(inThread).toEqual(loadSite(DEFAULT_CONFIG, env));
    expect(inThread.config.devices.length).toBeGreaterThan(200);
  });

  it('refuses a bad site file with the ConfigError loadSite throws: file, path and line', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      `site: { id: s1, name: S1 }
buildings: [{ id: b1, name: B1, floors: { lowest: 1, highest: 2 } }]
devices:
  - { id: m1, kind: water_meter, protocol: mqtt, place: { building: b1, floor: "1" } }
  - { id: m2, kind: water_meter, protocol: mqtt, profile: no-such-profile, place: { building: b1, floor: "1" } }
`,
    );
    const expected = (() => {
      try {
        loadSite(file, env);
      } catch (err) {
        return err;
      }
    })() as ConfigError;
    expect(expected).toBeInstanceOf(ConfigError);
    const err = await loadSiteInThread(file, env).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).format()).toBe(expected.format());
    expect((err as ConfigError).format()).toMatch(
      /bad\.yaml:5:\d+ {2}devices\[1\]\.profile: no payload profile "no-such-profile"/,
    );
  });

  it('says plainly when the file is not there', async () => {
    await expect(loadSiteInThread(join(dir, 'missing.yaml'), env)).rejects.toThrow(/missing\.yaml/);
  });
});
