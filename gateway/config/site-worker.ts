// Loads a site file in a short-lived worker thread (see loadSiteInThread in site-thread.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { ConfigError } from './load.js';
import { loadSite } from './site.js';
import type { SiteAnswer } from './site-thread.js';

const { file, env } = workerData as { file: string; env?: NodeJS.ProcessEnv };
let answer: SiteAnswer;
try {
  answer = { loaded: loadSite(file, env) };
} catch (err) {
  answer =
    err instanceof ConfigError
      ? { problems: { file: err.file, problems: err.problems } }
      : { failed: (err as Error).message };
}
parentPort!.postMessage(answer);
