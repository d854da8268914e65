import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../test/support/wait.js';
import { SystemWatch } from './system-watch.js';

describe('SystemWatch: what the gateway knows of itself', () => {
  it('tells a system clock set back an hour from time passing, reads the disk, and reports the parts', async () => {
    let wall = 1_796_000_000_000;
    let mono = 1000;
    const watch = new SystemWatch({
      clock: { now: () => wall },
      dataDir: tmpdir(),
      minFreeBytes: Number.MAX_SAFE_INTEGER,
      store: [
        { component: 'store', health: () => ({ status: 'down', downSince: wall - 60_000 }) },
        {
          component: 'spool',
          health: () => ({
            status: 'degraded',
            detail: 'spool full: new readings are refused until the database takes the backlog',
            bytes: 10,
            maxBytes: 10,
          }),
        },
      ],
      refusing: () => 'spool_full',
      broker: { health: () => ({ status: 'ok' }), restarts: 1 },
      lastBrokerRestartAt: () => wall - 1000,
      modbusLinesDown: () => [{ line: 'tcp://10.0.0.5:502', devices: 3 }],
      wall: () => wall,
      monotonic: () => mono,
    });
    wall += 1000;
    mono += 1000;
    expect(watch.snapshot().clockJump).toBeUndefined(); // one second on both clocks
    wall += 1000 - 3_600_000; // a second later, someone has set the clock back an hour
    mono += 1000;
    const snap = await waitFor(() => {
      const x = watch.snapshot();
      return x.disk ? x : null;
    }, 'the disk read');
    expect(snap.clockJump!.ms).toBe(-3_600_000);
    expect(snap).toMatchObject({
      store: { downSince: expect.any(Number) },
      spool: { bytes: 10, maxBytes: 10, refusing: { reason: 'spool_full' } },
      broker: { restarts: 1 },
      modbusLinesDown: [{ line: 'tcp://10.0.0.5:502', devices: 3 }],
      disk: { path: tmpdir(), floorBytes: Number.MAX_SAFE_INTEGER },
    });
    expect(snap.disk!.freeBytes).toBeGreaterThan(0);
  });
});
