import { createServer, type Socket } from 'node:net';
import { parseTcpFrames, tcpFrame } from './frame.js';
import { SimulatedUnits, type SimulatedDevice, type SimulatedUnitsControl, type WriteListener } from './units.js';

export type { RequestRecord, SimulatedDevice, WriteListener } from './units.js';

// A Modbus TCP server hosting many unit ids on one port, as a TCP-to-RS-485 converter with
// several meters behind it does (see units.ts for how each unit behaves). Requests are
// handled independently, as by a gateway that pipelines, so a slow unit does not hold up
// the others: holding them up is the poller's business (it sends one at a time).
//
// Unit ids nobody configured get no answer by default (the request times out), which is
// what most cheap converters do for an absent slave; `unknownUnit: 'exception'` answers
// 0x0B instead.

export interface ModbusServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (default) = a free port. */
  port?: number;
  devices: SimulatedDevice[];
  /** What a request to a unit id nobody configured gets (default: no answer). */
  unknownUnit?: 'silent' | 'exception';
  /** Told of every write a unit took, after it answered (the simulated device acts on it). */
  onWrite?: WriteListener;
}

export interface ModbusServer extends SimulatedUnitsControl {
  readonly host: string;
  readonly port: number;
  /** Open client connections. */
  connections(): number;
  /** Closes every client connection (a converter rebooting); the server keeps listening. */
  dropConnections(): void;
  close(): Promise<void>;
}

export async function startModbusServer(opts: ModbusServerOptions): Promise<ModbusServer> {
  const units = new SimulatedUnits(opts.devices, opts.unknownUnit, opts.onWrite);
  const sockets = new Set<Socket>();

  const server = createServer((socket) => {
    sockets.add(socket);
    let buffer: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      // A request usually arrives whole in one chunk: no copy then.
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      const parsed = parseTcpFrames(buffer);
      buffer = parsed.rest;
      for (const frame of parsed.frames) {
        units.handle(frame, (pdu) => {
          if (!socket.destroyed) socket.write(tcpFrame(frame.transactionId, frame.unitId, pdu));
        });
      }
      // Not Modbus TCP (wrong protocol id, impossible length): a device drops such a client.
      if (parsed.garbage) socket.destroy();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  });

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: opts.port ?? 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (opts.port ?? 0);

  return {
    host,
    port,
    set: (unitId, values) => units.set(unitId, values),
    setRaw: (unitId, fn, address, data) => units.setRaw(unitId, fn, address, data),
    setOffline: (unitId, offline) => units.setOffline(unitId, offline),
    setDelay: (unitId, ms) => units.setDelay(unitId, ms),
    requests: (unitId) => units.requests(unitId),
    connections: () => sockets.size,
    dropConnections() {
      for (const s of sockets) s.destroy();
    },
    async close() {
      units.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
