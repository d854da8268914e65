import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { extname, join, posix } from 'node:path';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { SiteConfig } from '../config/schema.js';
import { floorsOf } from '../config/schema.js';
import { projectPath } from '../files/paths.js';
import { siteFacts } from '../alarms/facts.js';
import { feederChain } from '../../rules/site-facts.js';
import { site } from './schemas/device.js';

// The duty-room page: index.html, the compiled dashboard modules and the few browser
// libraries it imports, all served from this process (duty rooms are often on closed
// networks: nothing comes from a CDN). Only the files listed here are served. The dashboard
// compiles from the project root (dashboard/tsconfig.json), so that it can take the server's
// types and the pure rules/ modules it uses: under /app/ its modules sit at dashboard/src/
// and those rules/ modules at rules/, as in the source tree, and their relative imports hold.

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
};

/** Browser libraries by the name the page's import map gives them. */
const VENDOR: Record<string, string> = {
  'preact.mjs': projectPath('node_modules', 'preact', 'dist', 'preact.mjs'),
  'hooks.mjs': projectPath('node_modules', 'preact', 'hooks', 'dist', 'hooks.mjs'),
  'htm.mjs': projectPath('node_modules', 'htm', 'dist', 'htm.mjs'),
  'uPlot.esm.js': projectPath('node_modules', 'uplot', 'dist', 'uPlot.esm.js'),
  'uPlot.min.css': projectPath('node_modules', 'uplot', 'dist', 'uPlot.min.css'),
};

/** The page's entry module, relative to the compiled dashboard's folder. */
export const PAGE_ENTRY = 'dashboard/src/main.js';

const RELATIVE_IMPORT = /(?:\bfrom\s*|\bimport\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

/**
 * The compiled modules the page loads: its entry and what it imports, followed from module to
 * module (with their source maps). The dashboard's build also emits the rules/ files it took
 * only types from; those are never loaded, so they are not served.
 */
function filesOf(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const todo = [PAGE_ENTRY];
  for (let name = todo.pop(); name !== undefined; name = todo.pop()) {
    const full = join(dir, ...name.split('/'));
    if (out.has(name) || !existsSync(full)) continue;
    out.set(name, full);
    if (existsSync(`${full}.map`)) out.set(`${name}.map`, `${full}.map`);
    for (const m of readFileSync(full, 'utf8').matchAll(RELATIVE_IMPORT)) {
      todo.push(posix.normalize(posix.join(posix.dirname(name), m[1]!)));
    }
  }
  return out;
}

/**
 * The CSP source for the page's inline scripts (its import map), by hash: the page may run its
 * own inline script and nothing else inline, so an injected script has nowhere to run.
 */
export function inlineScriptHashes(pageDir = projectPath('dashboard')): string[] {
  const file = join(pageDir, 'index.html');
  if (!existsSync(file)) return [];
  const html = readFileSync(file, 'utf8');
  return [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].map(
    (m) => `'sha256-${createHash('sha256').update(m[1]!).digest('base64')}'`,
  );
}

export const dashboardRoutes: FastifyPluginAsyncZod<{
  config: SiteConfig;
  now: () => number;
  appDir?: string;
  pageDir?: string;
}> = async (app, opts) => {
  const appFiles = filesOf(opts.appDir ?? projectPath('dist', 'dashboard'));
  const pageDir = opts.pageDir ?? projectPath('dashboard');
  // Each file read once, on its first request: the page's files are fixed for the gateway's life
  // (a new build needs a restart), and a file read per request blocked the event loop and let
  // a burst of requests for the largest one (uPlot) grow the memory by a hundred megabytes.
  const cache = new Map<string, Buffer>();
  const serve = (file: string | undefined, reply: import('fastify').FastifyReply) => {
    let body = file ? cache.get(file) : undefined;
    if (!body) {
      if (!file || !existsSync(file)) return reply.code(404).type('text/plain').send('not found');
      body = readFileSync(file);
      cache.set(file, body);
    }
    return reply
      .type(TYPES[extname(file!)] ?? 'application/octet-stream')
      .header('cache-control', 'no-cache')
      .send(body);
  };

  // One route per file: nothing else under these paths exists, and each route gets its access decision.
  const page = (url: string, file: string) =>
    app.get(url, { config: { access: 'public' }, schema: { hide: true } }, (_req, reply) => serve(file, reply));
  page('/', join(pageDir, 'index.html'));
  page('/style.css', join(pageDir, 'style.css'));
  for (const [name, file] of appFiles) page(`/app/${name}`, file);
  for (const [name, file] of Object.entries(VENDOR)) page(`/vendor/${name}`, file);

  // The estate picture draws each supply and greys what it feeds when it is lost: the supply
  // chain, circuit and nominal voltage come from the same facts the power rules use (no
  // second copy of the topology in the page). Fixed for the gateway's life, built once.
  const facts = siteFacts(opts.config);
  const topology = [...facts.devices.values()].map((d) => ({
    id: d.id,
    /** Every meter above it, nearest first (empty: it names no feeder). */
    supplies: feederChain(facts, d.id),
    ...(d.circuit ? { circuit: d.circuit } : {}),
    ...(d.nominalVoltage !== undefined ? { nominalVoltage: d.nominalVoltage } : {}),
    ...(d.role ? { role: d.role } : {}),
    ...(d.floorRange ? { floorRange: d.floorRange } : {}),
  }));

  // What the page needs to draw the estate and show times: names, zone, buildings, floors, units, rooms.
  app.get('/api/site', { schema: { response: { 200: site } } }, async () => {
    const c = opts.config;
    return {
      id: c.site.id,
      name: c.site.name,
      timezone: c.site.timezone,
      /** The gateway's time (simulated in the demo): pages measure "since" against it, not their own clock. */
      now: opts.now(),
      buildings: c.buildings.map((b) => ({
        id: b.id,
        name: b.name,
        floors: floorsOf(b),
        units: b.units,
        rooms: b.rooms,
      })),
      /** Per device: its supplies, circuit, role, lift floors (the estate picture). */
      devices: topology,
    };
  });
};
