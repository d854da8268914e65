import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ConfigError, type ConfigProblem, type LoadedConfig } from './load.js';
import { projectPath } from '../files/paths.js';

export type SiteAnswer =
  { loaded: LoadedConfig } | { problems: { file: string; problems: ConfigProblem[] } } | { failed: string };

/** What the loading process is told (over its IPC channel: the environment may hold secrets, which a command line would show). */
export interface SiteQuestion {
  file: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * `loadSite` (site.ts) in a short-lived process of its own, for the gateway's start. Parsing the
 * YAML of a large site (10,000 devices) allocates about 130 MB of short-lived objects, over
 * 100 MB of them live at once (the parser's token tree and the document), and V8 kept the pages:
 * loaded in the gateway's own heap it started at 289 MB RSS. A worker thread let that heap go
 * with the thread, but V8's heap flags hold for every isolate of a process, so under the
 * launcher's limits (app/launch.ts, 96 MiB) the thread ran out of memory on such a file. The
 * child runs without the gateway's flags; only the validated config crosses over. Errors are
 * the same as `loadSite`'s (a ConfigError naming file and lines).
 */
export async function loadSiteInChild(file: string, env?: NodeJS.ProcessEnv): Promise<LoadedConfig> {
  // The compiled file also when this module runs from its TypeScript source (vitest): `npm
  // test` builds first.
  const main = projectPath('dist', 'gateway', 'config', 'site-child-main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first`);
  const answer = await new Promise<SiteAnswer>((resolve, reject) => {
    const child = fork(main, [], {
      execArgv: [],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('message', (m) => resolve(m as SiteAnswer));
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(new Error(`loading ${file}: the loading process stopped (${code ?? signal})`)),
    );
    const question: SiteQuestion = { file, ...(env ? { env } : {}) };
    child.send(question);
  });
  if ('loaded' in answer) return answer.loaded;
  if ('problems' in answer) throw new ConfigError(answer.problems.file, answer.problems.problems);
  throw new Error(answer.failed);
}
