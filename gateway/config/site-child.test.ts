import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { GATEWAY_ENV, GATEWAY_NODE_FLAGS } from '../../app/launch.js';
import { projectPath } from '../files/paths.js';
import { ConfigError } from './load.js';
import { DEFAULT_CONFIG, loadSite } from './site.js';
import { loadSiteInChild } from './site-child.js';

// The gateway loads its site file in a short-lived process of its own (the YAML parser's garbage
// goes with it). It must answer exactly as loadSite does, errors included. The process runs the
// build in dist/, which `npm test` makes first.

const dir = mkdtempSync(join(tmpdir(), 'site-child-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { DUTYROOM_DATA_DIR: '/tmp' };
const run = promisify(execFile);

describe('loadSiteInChild', () => {
  it('gives the config loadSite gives, environment substitution included', async () => {
    const inChild = await loadSiteInChild(DEFAULT_CONFIG, env);
    expect(inChild).toEqual(loadSite(DEFAULT_CONFIG, env));
    expect(inChild.config.devices.length).toBeGreaterThan(200);
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
    const err = await loadSiteInChild(file, env).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).format()).toBe(expected.format());
    expect((err as ConfigError).format()).toMatch(
      /bad\.yaml:5:\d+ {2}devices\[1\]\.profile: no payload profile "no-such-profile"/,
    );
  });

  it('says plainly when the file is not there', async () => {
    await expect(loadSiteInChild(join(dir, 'missing.yaml'), env)).rejects.toThrow(/missing\.yaml/);
  });

  it(
    "loads 10,000 devices under the launcher's heap limit, which a thread of the gateway would share",
    { timeout: 60_000 },
    async () => {
      const file = join(dir, 'large.yaml');
      const devices = Array.from(
        { length: 10_000 },
        (_, i) =>
          `  - { id: m${i}, kind: water_meter, protocol: mqtt, place: { building: b${i % 10}, floor: "${1 + (i % 30)}" } }`,
      );
      const buildings = Array.from(
        { length: 10 },
        (_, b) => `  - { id: b${b}, name: B${b}, floors: { lowest: 1, highest: 30 } }`,
      );
      writeFileSync(
        file,
        `site: { id: s1, name: S1 }\nbuildings:\n${buildings.join('\n')}\ndevices:\n${devices.join('\n')}\n`,
      );
      // A gateway process with the launcher's V8 flags (app/launch.ts) loads the file and says how many devices it has.
      const script = `import { loadSiteInChild } from ${JSON.stringify(projectPath('dist', 'gateway', 'config', 'site-child.js'))};
const { config } = await loadSiteInChild(${JSON.stringify(file)}, {});
console.log(config.devices.length);`;
      const { stdout } = await run(process.execPath, [...GATEWAY_NODE_FLAGS, '--input-type=module', '-e', script], {
        env: { ...process.env, ...GATEWAY_ENV },
      });
      expect(stdout.trim()).toBe('10000');
    },
  );
});
