import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { describe, expect, it } from 'vitest';
import { dashboardRoutes } from './dashboard.js';
import { testSite } from './testing.js';

function compiled(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'dutyroom-page-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

describe('the page’s files', () => {
  it('are its entry and the modules it imports, not the server files its build took types from', async () => {
    const appDir = compiled({
      'dashboard/src/main.js': "import { a } from './views/a.js';\nimport '../../rules/local-time.js';\n",
      'dashboard/src/main.js.map': '{}',
      'dashboard/src/views/a.js': "export { b } from '../b.js';\n",
      'dashboard/src/b.js': 'export const b = 1;\n',
      'dashboard/src/types.js': 'export {};\n',
      'rules/local-time.js': 'export const t = 1;\n',
      'rules/thresholds.js': "import { z } from 'zod';\n",
    });
    const app = Fastify();
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    await app.register(dashboardRoutes, { config: await testSite(), now: () => 0, appDir, pageDir: appDir });
    const status = async (url: string) => (await app.inject({ url })).statusCode;
    for (const url of [
      '/app/dashboard/src/main.js',
      '/app/dashboard/src/main.js.map',
      '/app/dashboard/src/views/a.js',
      '/app/dashboard/src/b.js',
      '/app/rules/local-time.js',
    ])
      expect([url, await status(url)]).toEqual([url, 200]);
    for (const url of ['/app/dashboard/src/types.js', '/app/rules/thresholds.js'])
      expect([url, await status(url)]).toEqual([url, 404]);
    await app.close();
  });
});
