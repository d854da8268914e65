/** One component's state for /health. `down` and `degraded` make /health answer 503. */
export interface ComponentHealth {
  status: 'ok' | 'degraded' | 'down';
  /** Plain words for the duty engineer / the operator of the gateway. */
  detail?: string;
  [key: string]: unknown;
}

export interface HealthSource {
  readonly component: string;
  health(): ComponentHealth;
}
