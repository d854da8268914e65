import type { Duplex } from 'node:stream';
import type { Clock } from '../gateway/ports/clock.js';

// The broker's doors before login (issue 16). aedes parses a packet only once all of it has
// arrived, so a client that declares a 200 MB CONNECT and streams it would be buffered whole
// before anyone checks a password. The guard reads each packet's fixed header as the bytes go
// by (a tap on the stream aedes reads, no copy) and cuts the connection as soon as a packet
// declares more than is allowed: a small limit until the CONNECT is accepted, the payload
// limit after. Addresses that open connections too fast or fail logins too often are turned
// away before any password is checked (scrypt is the expensive part of a login).

/** Limits of the broker's doors; every one has a default. */
export interface DoorLimits {
  /** Largest packet before the CONNECT is accepted (default 64 KiB). */
  preAuthPacketBytes?: number;
  /** A connection that has not completed its CONNECT in this time is closed (default 10 s). */
  connectTimeoutMs?: number;
  /** Open connections at most (default 20,000). */
  maxConnections?: number;
  /** New connections per second from one address, with bursts of up to `connectionBurst` (defaults 50, 500). */
  connectionsPerSecond?: number;
  connectionBurst?: number;
  /** Failed logins of one login from one address in a minute before they are turned away for a minute; ten times that for the address whatever the login (default 10). */
  failedLoginsPerMinute?: number;
}

export const DOOR_DEFAULTS: Required<DoorLimits> = {
  preAuthPacketBytes: 64 * 1024,
  connectTimeoutMs: 10_000,
  maxConnections: 20_000,
  connectionsPerSecond: 50,
  connectionBurst: 500,
  failedLoginsPerMinute: 10,
};

/** A packet's fixed header declares more than the limit, or is malformed. */
export type Cut = { reason: 'pre_auth_oversized' | 'oversized' | 'malformed' | 'not_connect_first'; declared?: number };

/** Reads the fixed headers of the packets flowing through a connection, and says when to cut it. */
export class PacketGuard {
  private authenticated = false;
  private skip = 0;
  private inHeader = false;
  private type = 0;
  private remaining = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private packets = 0;

  constructor(
    private readonly preAuthLimit: number,
    private readonly postAuthLimit: number,
  ) {}

  /** The CONNECT was accepted: from now on the payload limit applies. */
  accept(): void {
    this.authenticated = true;
  }

  /** Takes the next bytes of the stream; a cut when the connection must go. */
  scan(chunk: Buffer): Cut | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      const byte = chunk[i++]!;
      if (!this.inHeader) {
        this.inHeader = true;
        this.type = byte >> 4;
        this.remaining = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      this.remaining += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      if (byte & 0x80) {
        if (this.lengthBytes >= 4) return { reason: 'malformed' };
        continue;
      }
      this.inHeader = false;
      if (this.packets++ === 0 && this.type !== 1) return { reason: 'not_connect_first' };
      const limit = this.authenticated ? this.postAuthLimit : this.preAuthLimit;
      if (this.remaining > limit)
        return { reason: this.authenticated ? 'oversized' : 'pre_auth_oversized', declared: this.remaining };
      this.skip = this.remaining;
    }
    return undefined;
  }
}

/**
 * Watches a stream aedes reads: with a `data` listener beside aedes's `readable` one, Node
 * emits each chunk as aedes reads it, before aedes parses it, so a cut comes before the
 * buffering it prevents.
 */
export function guardStream(stream: Duplex, guard: PacketGuard, onCut: (cut: Cut) => void): void {
  const onData = (chunk: Buffer) => {
    const cut = guard.scan(chunk);
    if (!cut) return;
    stream.removeListener('data', onData);
    onCut(cut);
    stream.destroy();
  };
  stream.on('data', onData);
}

/** Token buckets per address: new connections per second with bursts. */
export class ConnectionRate {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {}

  /** Whether one more connection from this address may come in now. */
  take(address: string): boolean {
    const now = this.clock.now();
    let b = this.buckets.get(address);
    if (!b) {
      if (this.buckets.size > 10_000) this.forgetFull(now);
      b = { tokens: this.burst, at: now };
      this.buckets.set(address, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Addresses whose bucket has refilled hold nothing worth keeping. */
  private forgetFull(now: number): void {
    for (const [a, b] of this.buckets)
      if (b.tokens + ((now - b.at) / 1000) * this.perSecond >= this.burst) this.buckets.delete(a);
    if (this.buckets.size > 10_000) this.buckets.clear();
  }
}

/** Failed logins per key (an address, or an address and a login): past the limit in a minute, it is turned away for a minute, passwords unchecked. */
export class LoginThrottle {
  private readonly fails = new Map<string, { start: number; count: number; blockedUntil: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly clock: Clock,
  ) {}

  /** Seconds the address must wait before its next try; 0 when it may try now. */
  waitSeconds(address: string): number {
    const f = this.fails.get(address);
    const now = this.clock.now();
    return f && f.blockedUntil > now ? Math.ceil((f.blockedUntil - now) / 1000) : 0;
  }

  failed(address: string): void {
    const now = this.clock.now();
    let f = this.fails.get(address);
    if (!f || now - f.start >= 60_000) {
      if (this.fails.size > 10_000)
        for (const [a, old] of this.fails)
          if (now - old.start >= 60_000 && old.blockedUntil <= now) this.fails.delete(a);
      f = { start: now, count: 0, blockedUntil: f?.blockedUntil ?? 0 };
      this.fails.set(address, f);
    }
    f.count++;
    if (f.count >= this.perMinute) f.blockedUntil = now + 60_000;
  }

  succeeded(address: string): void {
    this.fails.delete(address);
  }
}
