import { evidence, type Detector } from './types.js';

// DOMAIN.md §2 Any device: silent for 3 intervals. The engine starts every device as heard
// at its own start, so a device that never speaks goes offline after 3 intervals too.

export const deviceOffline: Detector = {
  kind: 'device_offline',
  timeBased: true,
  applies: () => true,
  durations: () => ({ forS: 0, clearS: 0 }),
  check: ({ device, live, now, t }) => {
    const heardAt = live?.heardAt;
    if (heardAt === undefined || now - heardAt <= t.offline_intervals * device.intervalS * 1000) return undefined;
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
