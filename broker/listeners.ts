import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';
import type { Logger } from 'pino';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { Admit } from './connections.js';
import type { BrokerContext } from './context.js';

// The broker's listeners: MQTT over TCP, over WebSocket and over TLS (README: Listeners and ports).

// WebSocket frames may carry the MQTT header and topic besides the payload.
const WS_FRAME_HEADROOM = 256 * 1024;

export interface ListenOptions {
  host: string;
  mqttPort: number;
  wsPort?: number;
  tls?: { port: number; cert: string | Buffer; key: string | Buffer };
}

export interface Listener {
  name: string;
  server: NetServer;
  /** Set when the server failed after it started listening. */
  failed?: string;
  listen(host: string, port: number): Promise<number>;
  close(): Promise<void>;
}

export type Ports = { mqtt: number; ws?: number; tls?: number };

/**
 * Opens the listeners the options ask for, one after the other. Each is added to `opened` as
 * soon as it exists, so the caller can close what was opened when a later port is taken.
 */
export async function openListeners(
  opts: ListenOptions,
  ctx: BrokerContext,
  admit: Admit,
  opened: Listener[],
): Promise<Ports> {
  const open = async <S extends NetServer>(server: S, name: string, port: number) => {
    const listener = track(server, name);
    server.maxConnections = ctx.limits.maxConnections;
    opened.push(listener);
    return listener.listen(opts.host, port);
  };
  const handle = (socket: Socket) => admit(socket, socket.remoteAddress ?? '?');
  const ports: Ports = { mqtt: await open(createNetServer(handle), 'MQTT', opts.mqttPort) };
  if (opts.wsPort !== undefined) {
    const oversized = () => {
      ctx.counts.oversized++;
      ctx.throttled.warn('ws-oversized', {}, 'broker WebSocket frame over the limit: connection closed');
    };
    const ws = webSocketServer(
      ctx.maxPayloadBytes + WS_FRAME_HEADROOM,
      ctx.logger,
      (stream, req) => admit(stream, req.socket.remoteAddress ?? '?', req),
      oversized,
    );
    ports.ws = await open(ws, 'MQTT over WebSocket', opts.wsPort);
  }
  if (opts.tls) {
    const tls = createTlsServer({ cert: opts.tls.cert, key: opts.tls.key }, handle);
    tls.on('tlsClientError', (err) => ctx.logger.debug({ err: err.message }, 'broker TLS handshake failed'));
    ports.tls = await open(tls, 'MQTT over TLS', opts.tls.port);
  }
  return ports;
}

/** The host part of a URL a client on this machine can use to reach a listener bound to `host`. */
export function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/** A WebSocket endpoint at /mqtt and /; plain HTTP requests get 426. */
function webSocketServer(
  maxFrameBytes: number,
  logger: Logger,
  admit: (stream: Duplex, req: IncomingMessage) => void,
  onOversized: () => void,
): HttpServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxFrameBytes });
  const http = createHttpServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
    res.end('MQTT over WebSocket: connect with a WebSocket client to /mqtt\n');
  });
  http.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path !== '/mqtt' && path !== '/') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const stream = createWebSocketStream(ws);
      stream.on('error', (err) => {
        // ws refuses a frame over maxPayload before any byte reaches the stream: count it here.
        if (/max payload size exceeded/i.test(err.message)) onOversized();
        logger.debug({ err: err.message }, 'broker WebSocket error');
      });
      admit(stream, req);
    });
  });
  http.on('close', () => wss.close());
  return http;
}

/** Wraps a server so that closing it also drops its open connections: the port is free after. */
function track<S extends NetServer>(server: S, name: string): Listener & { server: S } {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const listener: Listener & { server: S } = {
    name,
    server,
    listen: (host, port) =>
      new Promise<number>((resolve, reject) => {
        const onError = (err: NodeJS.ErrnoException) => reject(listenError(name, host, port, err));
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          server.on('error', (err) => {
            listener.failed = err.message;
          });
          const address = server.address();
          resolve(typeof address === 'object' && address ? address.port : port);
        });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
  return listener;
}

function listenError(name: string, host: string, port: number, err: NodeJS.ErrnoException): Error {
  const why =
    err.code === 'EADDRINUSE'
      ? 'the port is in use'
      : err.code === 'EACCES'
        ? 'permission denied (ports below 1024 need privileges)'
        : err.message;
  return new Error(`broker: cannot listen for ${name} on ${host}:${port}: ${why}`, { cause: err });
}
