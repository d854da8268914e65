#!/usr/bin/env node
import { existsSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { hashPassword, generateSecret } from '../broker/password.js';
import { ConfigError } from '../gateway/config/load.js';
import { startGateway, type RunningGateway } from '../gateway/gateway.js';
import { runDemo } from './demo.js';
import { startHq } from './hq.js';
import { loadHqConfig } from '../gateway/hq/config.js';
import { heapLimitMb, relaunchWithLimits } from './launch.js';
import { drillCommand } from './drill-cli.js';
import { reportCommand, simulateCommand } from './report-cli.js';
import { DEFAULT_CONFIG, loadSite } from '../gateway/config/site.js';
import { loadSiteInChild } from '../gateway/config/site-child.js';

const USAGE = `dutyroom — IoT monitoring gateway and emergency console for building facilities

usage:
  dutyroom start [--config FILE]        run the gateway (default config: $DUTYROOM_CONFIG or config/demo-site.yaml)
  dutyroom check-config FILE            validate a site file: every problem with its path and line
  dutyroom hash-password [--stdin]      hash a password (or an API token) for the site file
  dutyroom new-token                    make a random API token and its hash
  dutyroom demo [--speed N] [--history-days D]
                                        the demo estate: gateway + InfluxDB + simulated devices, with D days
                                        (default 35) of meter history for the reports
  dutyroom report meters --from DATE --to DATE [--building ID] [--out DIR]
                                        meter-anomaly report (表具异常报告) as CSV and a printable page
  dutyroom simulate history --days N [--seed S]
                                        N days of meter history with planted anomalies, into InfluxDB
  dutyroom hq [--config FILE]           the head-office console: many sites' alarms and incidents, read-only
                                        (default config: $DUTYROOM_HQ_CONFIG or hq.yaml)
  dutyroom drill list|start SCENARIO|stop|status [--url URL] [--token T | --user U --password P]
                                        drills on a running gateway (演练): \`dutyroom drill --help\`

environment:
  MQTT_URL      use this external broker instead of the embedded one
  INFLUX_URL    use this InfluxDB instead of starting a local influxd
  LOG_LEVEL     pino level (info)
`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** Stops cleanly on SIGINT/SIGTERM: flushes the spool and stops the local influxd. */
function stopOnSignals(gw: { stop(): Promise<void> }): void {
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.error(`\n${sig}: stopping…`);
    gw.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** Each command, taking the rest of the command line; the exit code (-1: keep running). */
const COMMANDS: Record<string, (rest: string[]) => Promise<number>> = {
  start: startCommand,
  'check-config': checkConfigCommand,
  'hash-password': hashPasswordCommand,
  'new-token': newTokenCommand,
  demo: demoCommand,
  hq: hqCommand,
  drill: (rest) => drillCommand(rest),
  report: (rest) => reportCommand(rest),
  simulate: (rest) => simulateCommand(rest),
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || ['help', '--help', '-h'].includes(command)) {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!run) {
    console.error(`unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  return run(rest);
}

async function startCommand(rest: string[]): Promise<number> {
  const { values } = parseArgs({ args: rest, options: { config: { type: 'string', short: 'c' } } });
  if (relaunchWithLimits() === 'unsupported')
    console.error(
      `dutyroom: Node.js ${process.version} cannot re-execute itself with the gateway's memory limits (process.execve needs 22.15 or later): running without them`,
    );
  const file = resolve(values.config ?? process.env.DUTYROOM_CONFIG ?? DEFAULT_CONFIG);
  const { config, baseDir } = await loadSiteInChild(file);
  const gw: RunningGateway = await startGateway({ config, baseDir });
  stopOnSignals(gw);
  console.log(`dutyroom ${config.site.id}: API ${gw.httpUrl}  MQTT ${gw.brokerUrl}  (heap limit ${heapLimitMb()} MiB)`);
  return -1; // keep running
}

async function hqCommand(rest: string[]): Promise<number> {
  const { values } = parseArgs({ args: rest, options: { config: { type: 'string', short: 'c' } } });
  const file = resolve(values.config ?? process.env.DUTYROOM_HQ_CONFIG ?? 'hq.yaml');
  const { config, baseDir } = loadHqConfig(file);
  const hq = await startHq({ config, baseDir });
  stopOnSignals(hq);
  console.log(`dutyroom hq: ${config.sites.length} sites on ${config.broker.url}  console ${hq.httpUrl}`);
  return -1;
}

async function checkConfigCommand(rest: string[]): Promise<number> {
  const file = rest[0];
  if (!file) {
    console.error('usage: dutyroom check-config FILE');
    return 2;
  }
  const { config } = loadSite(resolve(file));
  console.log(
    `${file}: OK — site ${config.site.id}, ${config.buildings.length} buildings, ${config.devices.length} devices, ${config.users.length} users`,
  );
  return 0;
}

async function hashPasswordCommand(rest: string[]): Promise<number> {
  const { values } = parseArgs({ args: rest, options: { stdin: { type: 'boolean' } } });
  if (!values.stdin && process.stdin.isTTY) console.error('type the password, then Enter (it is not stored):');
  const plain = await readStdin();
  if (plain.length < 8) {
    console.error('refused: use at least 8 characters');
    return 2;
  }
  console.log(await hashPassword(plain));
  return 0;
}

async function newTokenCommand(): Promise<number> {
  const token = generateSecret(32);
  console.log(`token (give it to the machine; shown once): ${token}`);
  console.log(`token_hash (put it in api_tokens):          ${await hashPassword(token)}`);
  return 0;
}

async function demoCommand(rest: string[]): Promise<number> {
  const { values } = parseArgs({
    args: rest,
    options: { speed: { type: 'string' }, config: { type: 'string' }, 'history-days': { type: 'string' } },
  });
  const gw = await runDemo({
    file: resolve(values.config ?? DEFAULT_CONFIG),
    speed: Number(values.speed ?? 1),
    historyDays: Number(values['history-days'] ?? 35),
  });
  stopOnSignals(gw);
  return -1;
}

const isMain =
  process.argv[1] !== undefined &&
  existsSync(process.argv[1]) &&
  realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code >= 0) process.exitCode = code;
    },
    (err: unknown) => {
      if (err instanceof ConfigError) {
        console.error(err.format());
        console.error(
          process.argv[2] === 'hq'
            ? 'The head-office console did not start: fix hq.yaml and try again.'
            : 'The gateway did not start: fix the site file and try again.',
        );
        process.exitCode = 1;
      } else {
        console.error(`dutyroom: ${(err as Error).stack ?? String(err)}`);
        process.exitCode = 1;
      }
    },
  );
}
