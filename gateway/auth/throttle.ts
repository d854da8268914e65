import type { Clock } from '../clock.js';

/**
 * Counts failed attempts per key (e.g. username + client address) in a sliding window and
 * says when a key must wait. Password guessing then costs minutes, not milliseconds, and the
 * slow scrypt checks cannot be used to load the gateway's CPU.
 */
export class AttemptThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly clock: Clock,
    private readonly maxFailures = 5,
    private readonly windowMs = 60_000,
    /** Keys remembered at most; beyond it the oldest are forgotten (bounded memory). */
    private readonly maxKeys = 10_000,
  ) {}

  /** Seconds to wait before trying again, or 0 when the key may try now. */
  waitSeconds(key: string): number {
    const recent = this.recent(key);
    if (recent.length < this.maxFailures) return 0;
    const oldest = recent[recent.length - this.maxFailures]!;
    return Math.max(1, Math.ceil((oldest + this.windowMs - this.clock.now()) / 1000));
  }

  fail(key: string): void {
    const recent = this.recent(key);
    recent.push(this.clock.now());
    // Re-inserting keeps the Map in least-recently-failed order for the eviction below.
    this.failures.delete(key);
    this.failures.set(key, recent.slice(-this.maxFailures));
    while (this.failures.size > this.maxKeys) this.failures.delete(this.failures.keys().next().value!);
  }

  succeed(key: string): void {
    this.failures.delete(key);
  }

  private recent(key: string): number[] {
    const now = this.clock.now();
    const kept = (this.failures.get(key) ?? []).filter((t) => now - t < this.windowMs);
    if (kept.length === 0) this.failures.delete(key);
    return kept;
  }
}
