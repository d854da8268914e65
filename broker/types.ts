// Copied from gateway/health.ts (structurally identical) so that broker/ stays importable
// without the gateway; the gateway passes `RunningBroker.health()` straight into /health.

/** One component's state for /health. `down` and `degraded` make /health answer 503. */
export interface ComponentHealth {
  status: 'ok' | 'degraded' | 'down';
  /** Plain words for the duty engineer / the operator of the gateway. */
  detail?: string;
  [key: string]: unknown;
}
