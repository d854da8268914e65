import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { runDemo, type RunningDemo } from '../../app/demo.js';
import { DEFAULT_CONFIG } from '../../gateway/config/site.js';

/**
 * The demo (`npm run demo`) for a test: its site file copied with `extra` YAML appended and
 * its simulated converters on random ports (the default ones, 15020–15025, would clash with a
 * demo running on this machine), any free port for HTTP and MQTT, the test run's influxd
 * (`database`: a database of its own there, for a test that writes history of its own).
 */
export async function startTestDemo(opts: {
  influxUrl: string;
  speed: number;
  start: number;
  extra?: string;
  database?: string;
}): Promise<RunningDemo> {
  // Below Linux's ephemeral range (32768 up): outgoing connections never hold these.
  const base = 20_000 + Math.floor(Math.random() * 12_000);
  const dir = mkdtempSync(join(tmpdir(), 'dutyroom-demo-site-'));
  const file = join(dir, 'demo-site.yaml');
  let yaml = readFileSync(DEFAULT_CONFIG, 'utf8').replace(
    /port: 1502(\d)/g,
    (_, d: string) => `port: ${base + Number(d)}`,
  );
  if (opts.database) yaml = yaml.replace(/^(\s+database:) dutyroom_demo$/m, `$1 ${opts.database}`);
  writeFileSync(file, yaml + (opts.extra ?? ''));
  return runDemo({
    file,
    speed: opts.speed,
    start: opts.start,
    banner: false,
    logger: pino({ level: 'error' }),
    env: {
      DUTYROOM_DATA_DIR: mkdtempSync(join(tmpdir(), 'dutyroom-demo-')),
      DUTYROOM_HTTP_PORT: '0',
      DUTYROOM_MQTT_PORT: '0',
      DUTYROOM_WS_PORT: '0',
      INFLUX_URL: opts.influxUrl,
    },
  });
}
