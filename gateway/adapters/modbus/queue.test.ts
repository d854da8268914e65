import { describe, expect, it } from 'vitest';
import { settle } from '../../../test/modbus-helpers.js';
import { QueueClosedError, RequestQueue } from './queue.js';

// The per-line serialisation rule: on a serial line (RTU, or TCP behind a converter) one
// request is on the wire at a time. No serial hardware here, so the rule is tested on
// the queue itself with requests that finish when the test says.

/** The queue hands the line on one turn after it frees up: wait that turn and the one after. */
const turn = async () => {
  await settle();
  await settle();
};

interface Job {
  name: string;
  finish: (ok?: boolean) => void;
}

function line(maxInFlight = 1) {
  const queue = new RequestQueue(maxInFlight);
  const onWire: Job[] = [];
  const order: string[] = [];
  let most = 0;
  const request = (name: string, priority: 'normal' | 'low' = 'normal') =>
    queue.run(
      () =>
        new Promise<string>((resolve, reject) => {
          const job: Job = {
            name,
            finish: (ok = true) => {
              onWire.splice(onWire.indexOf(job), 1);
              if (ok) resolve(name);
              else reject(new Error(`${name} timed out`));
            },
          };
          onWire.push(job);
          order.push(name);
          most = Math.max(most, onWire.length);
        }),
      priority,
    );
  return { queue, onWire, order, request, most: () => most };
}

describe('RequestQueue', () => {
  it('puts one request on a serial line at a time, in arrival order', async () => {
    const l = line(1);
    const results = ['meter-1', 'pump-2', 'meter-3', 'lift-4'].map((n) => l.request(n));
    await settle();
    expect(l.onWire.map((j) => j.name)).toEqual(['meter-1']);
    expect(l.queue.pending).toBe(3);
    while (l.onWire.length) {
      l.onWire[0]!.finish();
      await turn();
    }
    expect(await Promise.all(results)).toEqual(['meter-1', 'pump-2', 'meter-3', 'lift-4']);
    expect(l.order).toEqual(['meter-1', 'pump-2', 'meter-3', 'lift-4']);
    expect(l.most()).toBe(1);
  });

  it('a failed request frees the line for the next one', async () => {
    const l = line(1);
    const dead = l.request('dead-slave');
    const healthy = l.request('healthy');
    await settle();
    l.onWire[0]!.finish(false);
    await expect(dead).rejects.toThrow('dead-slave timed out');
    await turn();
    expect(l.onWire.map((j) => j.name)).toEqual(['healthy']);
    l.onWire[0]!.finish();
    await expect(healthy).resolves.toBe('healthy');
  });

  it("sends a failing device's request after the healthy ones already waiting, never before", async () => {
    const l = line(1);
    const all = [l.request('first'), l.request('dead', 'low'), l.request('meter'), l.request('pump')];
    await settle();
    while (l.onWire.length) {
      l.onWire[0]!.finish();
      await turn();
    }
    await Promise.all(all);
    // "first" was already on the wire; "dead" waited behind the two healthy requests.
    expect(l.order).toEqual(['first', 'meter', 'pump', 'dead']);
  });

  it("a healthy device's next request, sent when its previous one is answered, goes before a dead slave's waiting one", async () => {
    const queue = new RequestQueue(1);
    const order: string[] = [];
    const request = (name: string, priority: 'normal' | 'low') =>
      queue.run(async () => {
        order.push(name);
        await settle(); // the answer takes a moment
        return name;
      }, priority);
    // Two polls due in the same turn: the dead slave's timer happened to fire first.
    const dead = request('dead', 'low');
    const meter = (async () => {
      for (const part of ['meter-1', 'meter-2', 'meter-3']) {
        await request(part, 'normal');
        // Decoding and the layers between the poll and the queue take a few promise hops.
        for (let i = 0; i < 5; i++) await Promise.resolve();
      }
    })();
    await Promise.all([dead, meter]);
    expect(order).toEqual(['meter-1', 'meter-2', 'meter-3', 'dead']);
  });

  it('a task that throws synchronously fails alone', async () => {
    const queue = new RequestQueue(1);
    const bad = queue.run(() => {
      throw new Error('boom');
    });
    const good = queue.run(async () => 'ok');
    await expect(bad).rejects.toThrow('boom');
    await expect(good).resolves.toBe('ok');
    expect(queue.inFlight).toBe(0);
  });

  it('close() fails the waiting requests, lets the one on the wire finish, refuses new ones', async () => {
    const l = line(1);
    const onWire = l.request('on-wire');
    const waiting = l.request('waiting');
    await settle();
    l.queue.close('stopping');
    await expect(waiting).rejects.toBeInstanceOf(QueueClosedError);
    await expect(l.request('late')).rejects.toThrow('stopping');
    l.onWire[0]!.finish();
    await expect(onWire).resolves.toBe('on-wire');
  });

  it('with maxInFlight 2 (a TCP device that pipelines) two requests overlap, never three', async () => {
    const l = line(2);
    const all = ['a', 'b', 'c', 'd'].map((n) => l.request(n));
    await settle();
    expect(l.onWire.map((j) => j.name)).toEqual(['a', 'b']);
    while (l.onWire.length) {
      l.onWire[0]!.finish();
      await turn();
    }
    await Promise.all(all);
    expect(l.most()).toBe(2);
  });

  it('refuses a nonsense maxInFlight', () => {
    expect(() => new RequestQueue(0)).toThrow(RangeError);
  });
});
