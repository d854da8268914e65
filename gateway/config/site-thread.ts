import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { ConfigError, type ConfigProblem, type LoadedConfig } from './load.js';
import { projectPath } from '../files/paths.js';

export type SiteAnswer =
  { loaded: LoadedConfig } | { problems: { file: string; problems: ConfigProblem[] } } | { failed: string };

/**
 * `loadSite` (site.ts) in a worker thread of its own, for the gateway's start. Parsing the YAML of a
 * large site (10,000 devices) allocates about 130 MB of short-lived objects, and V8 kept the
 * pages: the gateway started at 289 MB RSS, 181 MB with the file loaded here (bench/memory.ts).
 * The thread's heap goes with the thread; only the validated config crosses over. Errors are the same as `loadSite`'s (a ConfigError naming file and lines).
 */
export async function loadSiteInThread(file: string, env?: NodeJS.ProcessEnv): Promise<LoadedConfig> {
  // The compiled file also when this module runs from its TypeScript source (vitest): `npm
  // test` builds first.
  const worker = projectPath('dist', 'gateway', 'config', 'site-worker.js');
  if (!existsSync(worker)) throw new Error(`${worker} is missing: run \`npm run build\` first`);
  const answer = await new Promise<SiteAnswer>((resolve, reject) => {
    const thread = new Worker(worker, { workerData: { file, ...(env ? { env } : {}) } });
    thread.once('message', resolve);
    thread.once('error', reject);
    thread.once('exit', (code) => reject(new Error(`loading ${file}: the loading thread stopped (code ${code})`)));
  });
  if ('loaded' in answer) return answer.loaded;
  if ('problems' in answer) throw new ConfigError(answer.problems.file, answer.problems.problems);
  throw new Error(answer.failed);
}
