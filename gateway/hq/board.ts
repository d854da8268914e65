import { applyMessage, emptySite, type SiteMessage, type SiteState } from '../../rules/hq/site-state.js';
import { siteView, type SiteView } from '../../rules/hq/site-view.js';
import type { Clock } from '../ports/clock.js';
import type { HqConfig, HqSiteConfig } from './config.js';

// The head-office board: one folded state per expected site (rules/hq), the messages the
// subscriber hands it, and listeners told of every change (the live stream of the page).

export interface HqSiteView extends SiteView {
  name: HqSiteConfig['name'];
}

export class HqBoard {
  private readonly states = new Map<string, SiteState>();
  private readonly listeners = new Set<(site: string) => void>();
  /** Messages refused: not valid JSON or not the published schema. */
  refused = 0;

  constructor(
    private readonly config: Pick<HqConfig, 'sites' | 'max_events_per_site'>,
    private readonly clock: Clock,
  ) {
    for (const s of config.sites) this.states.set(s.id, emptySite(s.id));
  }

  apply(site: string, m: SiteMessage): void {
    const before = this.states.get(site);
    if (!before) return;
    const after = applyMessage(before, m, this.config.max_events_per_site);
    if (after === before) return;
    this.states.set(site, after);
    for (const l of this.listeners) l(site);
  }

  state(site: string): SiteState | undefined {
    return this.states.get(site);
  }

  view(site: string): HqSiteView | undefined {
    const cfg = this.config.sites.find((s) => s.id === site);
    const state = this.states.get(site);
    if (!cfg || !state) return undefined;
    const rules = cfg.silent_after_s === undefined ? {} : { silentAfterMs: cfg.silent_after_s * 1000 };
    return { ...siteView(state, this.clock.now(), rules), name: cfg.name };
  }

  views(): HqSiteView[] {
    return this.config.sites.map((s) => this.view(s.id)!);
  }

  onChange(listener: (site: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
