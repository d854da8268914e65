import type { SiteConfig } from '../gateway/config/schema.js';
import type { Clock } from '../gateway/ports/clock.js';
import { openStoreSink } from '../gateway/pipeline/store-sink.js';
import { meterFacts } from '../gateway/reports/run-meter-report.js';
import type { StoreDriver } from '../gateway/store/driver.js';
import { backfillHistory, type BackfillOptions, type BackfillResult } from '../simulators/history/backfill.js';

/**
 * A simulated history of the site's meters written into its database: the simulators make
 * the readings, the gateway stores them in the live schema. For `dutyroom simulate history`,
 * the demo, the benchmarks and the report tests.
 */
export async function backfillSite(
  o: { config: SiteConfig; driver: StoreDriver } & Omit<BackfillOptions, 'meters' | 'timeZone' | 'sink'>,
): Promise<BackfillResult> {
  const { config, driver, ...rest } = o;
  // The registry behind the sink only places devices; its clock never decides anything here.
  const clock: Clock = { now: () => o.end };
  const sink = await openStoreSink(config, driver, clock);
  return backfillHistory({ ...rest, meters: meterFacts(config), timeZone: config.site.timezone, sink });
}
