import { createHmac, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

// Stored format (self-describing, like bcrypt's): scrypt$N$r$p$<salt base64>$<hash base64>.
// The parameters travel with the hash so they can be raised later without breaking old hashes.

const DEFAULT = { N: 16384, r: 8, p: 1, saltBytes: 16, keyBytes: 32 } as const;

// Limits on what a stored hash may ask for: a hand-edited or hostile config must not make one
// login allocate gigabytes or spin for minutes.
const MAX_N = 1 << 20;
const MAX_R = 32;
const MAX_P = 16;
const MIN_KEY_BYTES = 16;
const MAX_KEY_BYTES = 128;

const STORED = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

function derive(
  plain: string | Buffer,
  salt: Buffer,
  keyBytes: number,
  o: { N: number; r: number; p: number },
): Promise<Buffer> {
  // scrypt needs 128·N·r bytes; node refuses above `maxmem` (32 MiB by default).
  const options: ScryptOptions = { N: o.N, r: o.r, p: o.p, maxmem: 256 * o.N * o.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(plain, salt, keyBytes, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Hash a password (or token) for the site file: `scrypt$16384$8$1$<salt>$<hash>`. */
export async function hashPassword(plain: string): Promise<string> {
  const salt = randomBytes(DEFAULT.saltBytes);
  const key = await derive(plain, salt, DEFAULT.keyBytes, DEFAULT);
  return `scrypt$${DEFAULT.N}$${DEFAULT.r}$${DEFAULT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

interface Parsed {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

function parse(stored: string): Parsed | undefined {
  const m = STORED.exec(stored);
  if (!m) return undefined;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const salt = Buffer.from(m[4]!, 'base64');
  const key = Buffer.from(m[5]!, 'base64');
  const powerOfTwo = N > 1 && (N & (N - 1)) === 0;
  if (!powerOfTwo || N > MAX_N || r < 1 || r > MAX_R || p < 1 || p > MAX_P) return undefined;
  if (salt.length === 0 || key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES) return undefined;
  return { N, r, p, salt, key };
}

/** True if `stored` is a hash this module can check (the right shape and sane parameters). */
export function isPasswordHash(stored: string): boolean {
  return parse(stored) !== undefined;
}

/**
 * Check a password against a stored hash. A malformed hash answers false, never throws:
 * one bad line in the site file must lock out that login only, not crash the broker.
 */
export async function verifyPassword(plain: string | Buffer, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  if (!parsed) return false;
  try {
    const key = await derive(plain, parsed.salt, parsed.key.length, parsed);
    return timingSafeEqual(key, parsed.key);
  } catch {
    return false;
  }
}

/** A random secret (tokens, the gateway's internal broker login), base64url. */
export function generateSecret(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * Password checks for a broker. scrypt is slow on purpose (~50 ms) and runs in libuv's small
 * thread pool, the same pool that serves the spool's file writes. A building full of devices
 * reconnecting at once after a network blip would otherwise queue hundreds of scrypt runs and
 * stall both logins and disk I/O. So:
 * - outcomes are remembered (bounded, least recently used dropped first), keyed by the login
 *   name, an HMAC of the password under a key that lives only in this process (so memory never
 *   holds a fast, offline-crackable digest of a password), and the stored hash (so a changed
 *   hash in the config is checked afresh). The result is a pure function of (password, hash),
 *   so remembering a refusal is as sound as remembering a success; refusals get a smaller
 *   table so a password-guessing client cannot push the good entries out;
 * - identical checks already running are shared;
 * - at most `concurrency` scrypt runs at once, the rest wait their turn.
 */
export class PasswordChecker {
  private readonly pepper = randomBytes(32);
  private readonly accepted = new Map<string, true>();
  private readonly refused = new Map<string, true>();
  private readonly running = new Map<string, Promise<boolean>>();
  private readonly waiting: (() => void)[] = [];
  private active = 0;
  /** scrypt runs actually made (a cache hit makes none). */
  computed = 0;

  constructor(
    private readonly opts: {
      maxAccepted?: number;
      maxRefused?: number;
      concurrency?: number;
      /** The slow check itself; tests wrap `verifyPassword` to watch how many run at once. */
      check?: (plain: string | Buffer, stored: string) => Promise<boolean>;
    } = {},
  ) {}

  async verify(username: string, plain: string | Buffer, stored: string): Promise<boolean> {
    const key = createHmac('sha256', this.pepper)
      .update(username)
      .update('\0')
      .update(plain)
      .update('\0')
      .update(stored)
      .digest('base64');
    if (touch(this.accepted, key)) return true;
    if (touch(this.refused, key)) return false;
    const same = this.running.get(key);
    if (same) return same;
    const slow = this.opts.check ?? verifyPassword;
    const check = this.limited(() => slow(plain, stored)).then((ok) => {
      if (ok) remember(this.accepted, key, this.opts.maxAccepted ?? 1024);
      else remember(this.refused, key, this.opts.maxRefused ?? 256);
      return ok;
    });
    this.running.set(key, check);
    try {
      return await check;
    } finally {
      this.running.delete(key);
    }
  }

  private async limited<T>(run: () => Promise<T>): Promise<T> {
    // A finishing run hands its slot straight to the next waiter, so a newcomer arriving in
    // between cannot slip past the limit.
    if (this.active < (this.opts.concurrency ?? 2)) this.active++;
    else await new Promise<void>((go) => this.waiting.push(go));
    this.computed++;
    try {
      return await run();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/** Map insertion order doubles as recency: re-inserting moves an entry to the back. */
function touch(map: Map<string, true>, key: string): boolean {
  if (!map.delete(key)) return false;
  map.set(key, true);
  return true;
}

function remember(map: Map<string, true>, key: string, max: number): void {
  map.set(key, true);
  while (map.size > max) map.delete(map.keys().next().value!);
}
