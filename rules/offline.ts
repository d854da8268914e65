import type { Thresholds } from './thresholds.js';

// "Offline" is defined here once: silent for more than `offline_intervals` of the device's own
// interval (DOMAIN.md §2). The device_offline alarm, the engine's silence check and the
// gateway's device list all ask this, so a site that changes the threshold changes all three.

/** How long a device may stay silent before it counts as offline, ms. */
export function offlineAfterMs(t: Pick<Thresholds, 'offline_intervals'>, intervalS: number): number {
  return t.offline_intervals * intervalS * 1000;
}

/** Whether a device last heard at `heardAt` is offline at `now`. */
export function isOffline(
  heardAt: number,
  now: number,
  intervalS: number,
  t: Pick<Thresholds, 'offline_intervals'>,
): boolean {
  return now - heardAt > offlineAfterMs(t, intervalS);
}
