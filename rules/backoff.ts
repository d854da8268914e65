/**
 * The one retry backoff of the gateway: after the n-th failure in a row (n ≥ 1), wait `firstMs`,
 * doubling each time, capped at `maxMs` (never below `firstMs`). Used by the Modbus poller, the
 * store writer, the supervisors of the private influxd and the broker thread, and the incident
 * notifier's retries. Pure, so it lives here where every layer may import it.
 */
export function backoffDelay(failures: number, firstMs: number, maxMs: number): number {
  if (failures < 1) return firstMs;
  const cap = Math.max(firstMs, maxMs);
  // 2^(n−1) overflows to Infinity for huge n, which min() handles.
  return Math.min(cap, firstMs * 2 ** (failures - 1));
}
