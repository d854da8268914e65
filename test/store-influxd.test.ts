import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, startInfluxd } from '../gateway/store/influxd.js';
import { buildForChild, influxql, waitFor } from './store-support.js';

// The private influxd: starts, restarts on the same port with the same data, fails clearly,
// and never outlives the process that started it.

const tmp: string[] = [];
const newDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'store-influxd-'));
  tmp.push(d);
  return d;
};
afterAll(() => {
  for (const d of tmp) rmSync(d, { recursive: true, force: true });
});

/** Running (a zombie nobody reaped counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
const ping = (url: string) =>
  fetch(`${url}/ping`).then(
    (r) => r.status,
    () => 0,
  );

describe('startInfluxd', () => {
  it('serves on loopback, keeps its data across kill and restart on the same port', async () => {
    const influxd = await startInfluxd({ dataDir: newDir() });
    try {
      expect(influxd.url).toBe(`http://127.0.0.1:${influxd.port}`);
      expect(await ping(influxd.url)).toBe(204);
      await influxql(influxd.url, 'keep', 'CREATE DATABASE keep');
      const w = await fetch(`${influxd.url}/write?db=keep&precision=u`, {
        method: 'POST',
        body: 'lift,device=a floor=3i 1700000000123456',
      });
      expect(w.status).toBe(204);

      const firstPid = influxd.pid!;
      await influxd.kill();
      expect(influxd.pid).toBeUndefined();
      expect(alive(firstPid)).toBe(false);
      expect(await ping(influxd.url)).toBe(0);

      await influxd.restart();
      expect(influxd.pid).not.toBe(firstPid);
      const rows = await influxql(influxd.url, 'keep', 'SELECT floor FROM lift');
      expect(rows[0]!.values).toEqual([[1700000000123456, 3]]);

      await influxd.restart(); // from running: stops it first
      expect(await ping(influxd.url)).toBe(204);
    } finally {
      await influxd.stop();
    }
    expect(await ping(influxd.url)).toBe(0);
  });

  it('fails with influxd’s own words when it cannot start', async () => {
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    try {
      await expect(startInfluxd({ dataDir: newDir(), port })).rejects.toThrow(
        /stopped while starting \(exit code \d+\)[\s\S]*address already in use/,
      );
    } finally {
      blocker.close();
    }
    await expect(startInfluxd({ dataDir: newDir(), binary: '/nonexistent/influxd' })).rejects.toThrow(
      /could not start: .*ENOENT/,
    );
  });

  describe('never leaves an orphan', () => {
    const child = buildForChild('test/store-influxd-child.ts');
    tmp.push(join(child, '..', '..'));

    async function parentWithInfluxd(mode: 'exit' | 'wait') {
      const proc = spawn(process.execPath, [child, newDir(), mode], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
      proc.stderr.on('data', (c: Buffer) => (out += c.toString()));
      const exited = new Promise<string>((resolve) =>
        proc.once('exit', (code, signal) => resolve(signal ?? `exit ${code}`)),
      );
      const pid = Number(
        (await waitFor(() => /pid (\d+)/.exec(out), `the child to start influxd (output: ${out})`))[1],
      );
      return { proc, pid, exited };
    }

    it('when the parent exits', async () => {
      const { pid, exited } = await parentWithInfluxd('exit');
      expect(await exited).toBe('exit 0');
      await waitFor(() => !alive(pid), 'influxd to be gone', 10_000);
    });

    it('when the parent gets SIGTERM (and the parent still dies of it)', async () => {
      const { proc, pid, exited } = await parentWithInfluxd('wait');
      expect(alive(pid)).toBe(true);
      proc.kill('SIGTERM');
      expect(await exited).toBe('SIGTERM');
      await waitFor(() => !alive(pid), 'influxd to be gone', 10_000);
    });

    it('when the parent is SIGKILLed', async () => {
      const { proc, pid, exited } = await parentWithInfluxd('wait');
      proc.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      await waitFor(() => !alive(pid), 'influxd to be gone (its watchdog)', 10_000);
    });
  });
});
