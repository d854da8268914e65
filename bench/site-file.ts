// The site file a bench starts its gateway with (`dutyroom start --config FILE`, or loaded as
// that command loads it): one site, one InfluxDB database, the broker on a free port.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BenchSite {
  dir: string;
  influxUrl: string;
  database: string;
  /** YAML flow mappings, one per broker account. */
  accounts: string[];
  /** YAML flow mappings, one per device. */
  devices: string[];
  /** YAML flow mappings, one per building (default: b1 with two floors). */
  buildings?: string[];
  /** More top-level YAML (api_tokens, thresholds…). */
  more?: string;
}

/** Writes DIR/NAME.yaml for the site and returns its path. */
export function writeSiteFile(name: string, site: BenchSite): string {
  const file = join(site.dir, `${name}.yaml`);
  const buildings = site.buildings ?? ['{ id: b1, name: B1, floors: { lowest: 1, highest: 2 } }'];
  writeFileSync(
    file,
    `site: { id: bench, name: Bench }
data_dir: ${site.dir}
http: { host: 127.0.0.1, port: 0 }
broker:
  host: 127.0.0.1
  mqtt_port: 0
  accounts: [${site.accounts.join(', ')}]
storage: { url: ${site.influxUrl}, database: ${site.database}, batch_size: 5000, flush_interval_ms: 200 }
${site.more ?? ''}
buildings:
${buildings.map((b) => `  - ${b}`).join('\n')}
devices:
${site.devices.map((d) => `  - ${d}`).join('\n')}
`,
  );
  return file;
}
