import { isOffline } from '../offline.js';
import { evidence, type Detector } from './detector.js';

// DOMAIN.md §2 Any device: silent for `offline_intervals` (default 3) intervals (../offline.ts). The engine starts every device as heard
// at its own start, so a device that never speaks goes offline after those intervals too.

export const deviceOffline: Detector = {
  kind: 'device_offline',
  timeBased: true,
  applies: () => true,
  durations: () => ({ forS: 0, clearS: 0 }),
  check: ({ device, live, now, t }) => {
    const heardAt = live?.heardAt;
    if (heardAt === undefined || !isOffline(heardAt, now, device.intervalS, t)) return undefined;
    const silentS = Math.round((now - heardAt) / 1000);
    const e = evidence(
      `${silentS} 秒无数据（应每 ${device.intervalS} 秒一次）`,
      `no reading for ${silentS} s (expected every ${device.intervalS} s)`,
      live,
      device.id,
      [],
    );
    return e;
  },
};

export const DEVICE_DETECTORS: Detector[] = [deviceOffline];
