import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BytesPoster } from './post-bytes.js';

const servers: Server[] = [];
const posters: BytesPoster[] = [];

afterEach(async () => {
  for (const p of posters.splice(0)) p.close();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A signal that never aborts. */
const never = () => new AbortController().signal;

function poster(base: string): BytesPoster {
  const p = new BytesPoster(new URL(base));
  posters.push(p);
  return p;
}

describe('BytesPoster', () => {
  it('sends the bytes as they are with their length, and gives the status and text of the answer', async () => {
    const seen: { body: string; length: string | undefined; type: string | undefined; sockets: number }[] = [];
    const sockets = new Set<unknown>();
    const base = await serve((req, res) => {
      sockets.add(req.socket);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({
          body: Buffer.concat(chunks).toString(),
          length: req.headers['content-length'],
          type: req.headers['content-type'],
          sockets: sockets.size,
        });
        res.writeHead(seen.length === 1 ? 204 : 400).end(seen.length === 1 ? '' : 'bad line');
      });
    });
    const p = poster(base);
    const slab = Buffer.from('xxm,device=a v=1\n一号楼\nyy');
    const body = slab.subarray(2, slab.length - 2);
    expect(await p.post(`${base}/write`, { 'content-type': 'text/plain' }, body, never())).toEqual({
      status: 204,
      text: '',
    });
    expect(await p.post(`${base}/write`, {}, 'm v=2', never())).toEqual({ status: 400, text: 'bad line' });
    expect(seen[0]).toEqual({
      body: 'm,device=a v=1\n一号楼\n',
      length: String(body.length),
      type: 'text/plain',
      sockets: 1,
    });
    // The second request went over the same kept-alive connection.
    expect(seen[1]).toMatchObject({ body: 'm v=2', length: '5', sockets: 1 });
  });

  it('rejects when nobody listens, naming why', async () => {
    const base = await serve(() => undefined);
    const gone = servers.pop()!;
    await new Promise((r) => gone.close(r));
    await expect(poster(base).post(`${base}/write`, {}, 'm v=1', never())).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });

  it("rejects when its signal aborts (the driver's timeout) while the server does not answer", async () => {
    let arrived!: () => void;
    const request = new Promise<void>((r) => (arrived = r));
    const base = await serve(() => arrived()); // takes the request, never answers
    const timeout = new AbortController();
    const posting = poster(base).post(`${base}/write`, {}, 'm v=1', timeout.signal);
    await request;
    timeout.abort(new DOMException('the write timed out', 'TimeoutError'));
    await expect(posting).rejects.toMatchObject({ name: 'TimeoutError' });
  });
});
