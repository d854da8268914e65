import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project folder, found by walking up to package.json: the same code runs from the
 * sources (tests) and from dist/ (npm start), and data files (profiles, demo config) live
 * in the source tree.
 */
export const PROJECT_ROOT: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the dutyroom project folder (package.json)');
    dir = up;
  }
  return dir;
})();

export const projectPath = (...parts: string[]): string => join(PROJECT_ROOT, ...parts);
