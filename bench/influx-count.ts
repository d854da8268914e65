/** How many points of `measurement` InfluxDB 1.x holds in `database` (count of one always-present field). */
export async function countInInflux(
  url: string,
  database: string,
  measurement: string,
  field: string,
): Promise<number> {
  const q = new URLSearchParams({ db: database, q: `SELECT count("${field}") FROM "${measurement}"` });
  const res = await fetch(`${url}/query?${q}`);
  if (!res.ok) throw new Error(`influx count ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { results: { series?: { values: [string, number][] }[] }[] };
  return body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
}
