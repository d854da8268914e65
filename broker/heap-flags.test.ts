import { execFileSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { heapFlagsGiven, spawnWithOwnHeap } from './heap-flags.js';

describe('heapFlagsGiven', () => {
  it('reads both spellings and both forms, the last one given winning', () => {
    const given = heapFlagsGiven([
      '--max-old-space-size=200',
      '--enable-source-maps',
      '--max_semi_space_size',
      '2',
      '--max-old-space-size=96',
    ]);
    expect(Object.fromEntries(given)).toEqual({ 'max-old-space-size': '96', 'max-semi-space-size': '2' });
  });

  it('ignores other flags and values that are not sizes', () => {
    expect(heapFlagsGiven(['--max-old-space-size=', '--max-old-space-sizes=9', '--stack-size=900']).size).toBe(0);
  });
});

describe('spawnWithOwnHeap', () => {
  const fakeWorker = () => new EventEmitter() as unknown as Worker;
  const given = new Map([
    ['max-old-space-size', '96'],
    ['max-semi-space-size', '2'],
  ] as const);

  it('clears the flags while the worker is made and puts them back once it is online, once', () => {
    const set: string[] = [];
    let atSpawn: string[] = [];
    const w = spawnWithOwnHeap(
      () => {
        atSpawn = [...set];
        return fakeWorker();
      },
      given,
      (f) => set.push(f),
    );
    expect(atSpawn).toEqual(['--max-old-space-size=0', '--max-semi-space-size=0']);
    expect(set).toHaveLength(2); // not back before the isolate exists
    w.emit('online');
    w.emit('exit', 0);
    expect(set.slice(2)).toEqual(['--max-old-space-size=96', '--max-semi-space-size=2']);
  });

  it('puts them back when the worker fails to start or cannot be made', () => {
    const set: string[] = [];
    const w = spawnWithOwnHeap(fakeWorker, given, (f) => set.push(f));
    w.emit('error', new Error('no'));
    expect(set.at(-1)).toBe('--max-semi-space-size=2');
    const set2: string[] = [];
    expect(() =>
      spawnWithOwnHeap(
        () => {
          throw new Error('bad file');
        },
        given,
        (f) => set2.push(f),
      ),
    ).toThrow('bad file');
    expect(set2.slice(2)).toEqual(['--max-old-space-size=96', '--max-semi-space-size=2']);
  });

  it('touches nothing when the process was started without heap flags', () => {
    const set: string[] = [];
    spawnWithOwnHeap(fakeWorker, new Map(), (f) => set.push(f));
    expect(set).toEqual([]);
  });

  // The premise, in a real process under the launcher's flags: without the helper a worker gets
  // the process's old space; with it, its own resourceLimits; the main isolate keeps its own.
  const built = fileURLToPath(new URL('../dist/broker/heap-flags.js', import.meta.url));
  it.runIf(existsSync(built))('gives a worker its own limits in a process started with heap flags', () => {
    const script = `
      import { Worker } from 'node:worker_threads';
      import { getHeapStatistics } from 'node:v8';
      import { spawnWithOwnHeap } from ${JSON.stringify(built)};
      const limitOf = (make) => new Promise((resolve) => make().once('message', resolve));
      const code = "process.getBuiltinModule('node:worker_threads').parentPort.postMessage(process.getBuiltinModule('node:v8').getHeapStatistics().heap_size_limit)";
      const make = () => new Worker(code, { eval: true, resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 } });
      const mb = (b) => Math.round(b / 2 ** 20);
      const plain = mb(await limitOf(make));
      const own = mb(await limitOf(() => spawnWithOwnHeap(make)));
      const after = mb(await limitOf(make));
      console.log(JSON.stringify({ plain, own, after, main: mb(getHeapStatistics().heap_size_limit) }));
    `;
    const out = execFileSync(
      process.execPath,
      ['--max-old-space-size=96', '--max-semi-space-size=2', '--input-type=module', '-e', script],
      { encoding: 'utf8' },
    );
    const r = JSON.parse(out) as { plain: number; own: number; after: number; main: number };
    expect(r.plain).toBeGreaterThanOrEqual(96); // V8's flags win over resourceLimits
    expect(r.own).toBeLessThan(48); // 32 MiB old + the young generation
    expect(r.after).toBe(r.plain); // put back for whatever is made next
    expect(r.main).toBe(r.plain);
  });
});
