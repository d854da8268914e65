#!/usr/bin/env node
// Installs what a fresh clone is missing, then builds. Used by `npm run demo`, `npm test`
// (pretest) and CI, so the two README commands work on a new machine.
//   node scripts/setup.mjs [demo|test]   (no argument: everything the tests need too)
// Plain JavaScript on purpose: it must run before dependencies and the build exist.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mode = process.argv[2] ?? 'all';
const forTests = mode !== 'demo';
const say = (msg) => console.error(`[setup] ${msg}`);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
}

function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

// 1. Node.js version
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  say(`Node.js ${process.versions.node} is too old: dutyroom needs Node.js >= 20.19.`);
  process.exit(1);
}

// 2. npm dependencies: install when missing or when the lock file changed since.
const lock = join(root, 'package-lock.json');
const installed = join(root, 'node_modules', '.package-lock.json');
if (!existsSync(installed) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(installed).mtimeMs + 1000)) {
  say('installing npm dependencies (npm ci)…');
  run('npm', existsSync(lock) ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund']);
}

// 3. System packages: influxd (always, unless INFLUX_URL points at an existing database);
//    for the tests, mosquitto (the external-broker test) and the outside tools that check
//    the simulators: mbpoll (Modbus) and mosquitto_sub (mosquitto-clients).
const wanted = [];
if (!process.env.INFLUX_URL && !onPath('influxd') && !existsSync('/usr/bin/influxd')) wanted.push('influxdb');
if (forTests && !onPath('mosquitto') && !existsSync('/usr/sbin/mosquitto')) wanted.push('mosquitto');
if (forTests && !onPath('mosquitto_sub')) wanted.push('mosquitto-clients');
if (forTests && !onPath('mbpoll')) wanted.push('mbpoll');
// The dashboard's browser tests drive Debian's Chromium (playwright-core downloads no browser).
if (forTests && !onPath('chromium') && !existsSync('/usr/bin/chromium')) wanted.push('chromium');
// Chromium on a stock Debian has no CJK font: every zh-CN screen would be boxes.
if (forTests && !existsSync('/usr/share/fonts/truetype/wqy/wqy-microhei.ttc')) wanted.push('fonts-wqy-microhei');
if (wanted.length) {
  const isRoot = process.getuid?.() === 0;
  const sudo = isRoot ? [] : onPath('sudo') ? ['sudo', '-n'] : null;
  if (!onPath('apt-get') || sudo === null) {
    say(`missing system packages: ${wanted.join(', ')}. Install them (Debian/Ubuntu: apt-get install ${wanted.join(' ')}),`);
    say('or set INFLUX_URL to an existing InfluxDB.');
    process.exit(1);
  }
  say(`installing ${wanted.join(', ')} with apt-get…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args) => (sudo.length ? run(sudo[0], [...sudo.slice(1), 'apt-get', ...args], { env }) : run('apt-get', args, { env }));
  try {
    apt(['install', '-y', '--no-install-recommends', ...wanted]);
  } catch {
    apt(['update']);
    apt(['install', '-y', '--no-install-recommends', ...wanted]);
  }
  // Debian's packages enable their services; ours start their own private instances.
  for (const svc of ['influxdb', 'mosquitto']) spawnSync('sh', ['-c', `service ${svc} stop >/dev/null 2>&1 || true`]);
}

// 4. Build (tsc is incremental: a no-op build takes about a second).
say('building (tsc)…');
run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json']);
run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join('dashboard', 'tsconfig.json')]);

if (mode === 'demo') {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  say(`ready: dutyroom ${pkg.version}`);
}
