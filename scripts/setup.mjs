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

/** A font with Chinese glyphs: WenQuanYi where we install it, or any other fontconfig knows (Noto CJK…). */
function hasCjkFont() {
  // macOS and Windows ship CJK fonts (PingFang, YaHei: named in the page's font stack).
  if (process.platform !== 'linux') return true;
  if (existsSync('/usr/share/fonts/truetype/wqy/wqy-microhei.ttc')) return true;
  const r = spawnSync('fc-list', [':lang=zh', 'family'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() !== '';
}

// 1. Node.js version: the lines package.json's `engines` names (22, 24, 26) are the tested ones.
//    Node.js 20 (end of life in April 2026) still runs dutyroom, with a warning; older does not.
const [major, minor] = process.versions.node.split('.').map(Number);
const engines = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines.node;
/** `^22.13 || ^24 || >=26`: each alternative a caret or >= range on a major[.minor]. */
const supported = engines.split('||').some((range) => {
  const [, op, lineMajor, lineMinor = '0'] = range.trim().match(/^(\^|>=)(\d+)(?:\.(\d+))?/) ?? [];
  if (!op) return false;
  if (major !== Number(lineMajor)) return op === '>=' && major > Number(lineMajor);
  return minor >= Number(lineMinor);
});
if (major < 20 || (major === 20 && minor < 19)) {
  say(`Node.js ${process.versions.node} is too old: dutyroom needs Node.js ${engines}.`);
  process.exit(1);
}
if (!supported) {
  say(`Node.js ${process.versions.node} is not a supported line (${engines}): nothing is tested on it.`);
  if (major === 20)
    say('Node.js 20 ended in April 2026; dutyroom still runs on it for now (npm warns: cookie@2 needs 22).');
  say('Use Node.js 24; on Linux x64 without it: PATH="$(node scripts/node-lines.mjs 24):$PATH" npm test');
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
// Chromium on a stock Debian has no CJK font: every zh-CN screen would be boxes. The tests need
// one (a browser test fails on boxes); for the demo it serves a browser or kiosk on this
// machine, so it is installed when it can be and otherwise named: the demo runs without it.
const optional = [];
if (!hasCjkFont()) (forTests ? wanted : optional).push('fonts-wqy-microhei');
// The board's icons (🔔 mute, 🔇) are emoji, boxes too without a colour-emoji font.
if (process.platform === 'linux' && !existsSync('/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf'))
  (forTests ? wanted : optional).push('fonts-noto-color-emoji');
const isRoot = process.getuid?.() === 0;
const sudo = isRoot ? [] : onPath('sudo') ? ['sudo', '-n'] : null;
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const apt = (args) =>
  sudo.length ? run(sudo[0], [...sudo.slice(1), 'apt-get', ...args], { env }) : run('apt-get', args, { env });
if (!wanted.length && optional.length) {
  const fontHelp = `fonts missing: Chinese text or the icons in a browser on this machine will show as boxes (apt-get install ${optional.join(' ')})`;
  if (!onPath('apt-get') || sudo === null) say(fontHelp);
  else {
    say(`installing ${optional.join(', ')} with apt-get…`);
    try {
      apt(['install', '-y', '--no-install-recommends', ...optional]);
    } catch {
      try {
        apt(['update']);
        apt(['install', '-y', '--no-install-recommends', ...optional]);
      } catch {
        say(fontHelp);
      }
    }
  }
}
if (wanted.length) {
  wanted.push(...optional);
  if (!onPath('apt-get') || sudo === null) {
    say(
      `missing system packages: ${wanted.join(', ')}. Install them (Debian/Ubuntu: apt-get install ${wanted.join(' ')}),`,
    );
    say('or set INFLUX_URL to an existing InfluxDB.');
    process.exit(1);
  }
  say(`installing ${wanted.join(', ')} with apt-get…`);
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
run(process.execPath, [
  join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
  '-p',
  join('dashboard', 'tsconfig.json'),
]);

if (mode === 'demo') {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  say(`ready: dutyroom ${pkg.version}`);
}
