import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

// axe-core: the maintained, standard accessibility rules engine (Deque's; the one browser
// devtools and Lighthouse run). Injected as an inline script, so the page's context must be
// opened with `bypassCSP: true` (the gateway's CSP rightly refuses inline scripts).
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

type AxeResult = {
  violations: { id: string; impact: string; help: string; nodes: { target: string[]; failureSummary?: string }[] }[];
};

/** axe-core's serious and critical findings on the page as it is now (moderate and minor ones are not asserted). */
export async function seriousViolations(
  p: Page,
): Promise<{ id: string; impact: string; help: string; nodes: string[] }[]> {
  if (!(await p.evaluate(() => 'axe' in window))) await p.addScriptTag({ content: AXE });
  const result = await p.evaluate(() =>
    (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<AxeResult> } }).axe.run(document, {
      resultTypes: ['violations'],
    }),
  );
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary ?? ''}`),
    }));
}
