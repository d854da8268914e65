// Loads a site file in a short-lived process of its own (see loadSiteInChild in site-child.ts):
// the question comes over the IPC channel, the answer goes back the same way, then it ends.
import { ConfigError } from './load.js';
import { loadSite } from './site.js';
import type { SiteAnswer, SiteQuestion } from './site-child.js';

process.once('message', (m) => {
  const { file, env } = m as SiteQuestion;
  let answer: SiteAnswer;
  try {
    answer = { loaded: loadSite(file, env) };
  } catch (err) {
    answer =
      err instanceof ConfigError
        ? { problems: { file: err.file, problems: err.problems } }
        : { failed: (err as Error).message };
  }
  process.send!(answer, () => process.disconnect());
});
