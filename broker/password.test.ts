import { describe, expect, it } from 'vitest';
// The site file's schema is the contract these hashes must satisfy (test-only import).
import { passwordHash } from '../gateway/config/schema.js';
import { PasswordChecker, generateSecret, hashPassword, isPasswordHash, verifyPassword } from './password.js';

describe('hashPassword / verifyPassword', () => {
  it('makes a self-describing scrypt hash the site schema accepts', async () => {
    const hash = await hashPassword('pump-room-7');
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    const [, , , , salt, key] = hash.split('$');
    expect(Buffer.from(salt!, 'base64')).toHaveLength(16);
    expect(Buffer.from(key!, 'base64')).toHaveLength(32);
    expect(passwordHash.safeParse(hash).success).toBe(true);
    expect(isPasswordHash(hash)).toBe(true);
  });

  it('salts every hash, and each verifies only its own password', async () => {
    const [a, b] = await Promise.all([hashPassword('same'), hashPassword('same')]);
    expect(a).not.toBe(b);
    expect(await verifyPassword('same', a)).toBe(true);
    expect(await verifyPassword('same', b)).toBe(true);
    expect(await verifyPassword('Same', a)).toBe(false);
    expect(await verifyPassword('', a)).toBe(false);
  });

  it('verifies the UTF-8 bytes an MQTT client sends as its password', async () => {
    const hash = await hashPassword('泵房-密码');
    expect(await verifyPassword(Buffer.from('泵房-密码', 'utf8'), hash)).toBe(true);
  });

  it('answers false, without throwing, for stored hashes it cannot use', async () => {
    const good = await hashPassword('x');
    const [, N, r, p, salt, key] = good.split('$');
    const malformed = [
      '',
      'x',
      '$2b$10$abcdefghijklmnopqrstuuJ0Yx4zq6m1pGQ9w5Jp4nq7lVh1b9P2K', // bcrypt
      `scrypt$${N}$${r}$${p}$${salt}`, // no key
      `scrypt$1000$${r}$${p}$${salt}$${key}`, // N not a power of two
      `scrypt$${2 ** 24}$${r}$${p}$${salt}$${key}`, // asks for 16 GiB
      `scrypt$${N}$0$${p}$${salt}$${key}`,
      `scrypt$${N}$${r}$99$${salt}$${key}`,
      `scrypt$${N}$${r}$${p}$${salt}$AAAA`, // 3-byte key
      `scrypt$${N}$${r}$${p}$${salt}$${key}$extra`,
      `scrypt$${N}$${r}$${p}$sa lt$${key}`,
    ];
    for (const stored of malformed) {
      await expect(verifyPassword('x', stored), stored).resolves.toBe(false);
      expect(isPasswordHash(stored), stored).toBe(false);
    }
  });
});

describe('generateSecret', () => {
  it('gives base64url secrets of the asked length, different each time', () => {
    const a = generateSecret();
    expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/); // 24 bytes
    expect(generateSecret()).not.toBe(a);
    expect(Buffer.from(generateSecret(32), 'base64url')).toHaveLength(32);
  });
});

describe('PasswordChecker', () => {
  it('remembers outcomes so a reconnecting device costs one scrypt run', async () => {
    const hash = await hashPassword('right');
    const checker = new PasswordChecker();
    for (let i = 0; i < 5; i++) expect(await checker.verify('dev1', 'right', hash)).toBe(true);
    expect(checker.computed).toBe(1);
    for (let i = 0; i < 5; i++) expect(await checker.verify('dev1', 'wrong', hash)).toBe(false);
    expect(checker.computed).toBe(2);
    // Another login with the same password, or a new hash in the config, is checked afresh.
    expect(await checker.verify('dev2', 'right', hash)).toBe(true);
    const rehashed = await hashPassword('right');
    expect(await checker.verify('dev1', 'right', rehashed)).toBe(true);
    expect(await checker.verify('dev1', 'wrong', rehashed)).toBe(false);
    expect(checker.computed).toBe(5);
  });

  it('shares one run among identical checks made at the same time', async () => {
    const hash = await hashPassword('storm');
    const checker = new PasswordChecker();
    const all = await Promise.all(Array.from({ length: 20 }, () => checker.verify('dev1', 'storm', hash)));
    expect(all.every(Boolean)).toBe(true);
    expect(checker.computed).toBe(1);
  });

  it('runs at most `concurrency` checks at once and queues the rest', async () => {
    const hash = await hashPassword('p');
    let running = 0;
    let peak = 0;
    const checker = new PasswordChecker({
      concurrency: 2,
      check: async (plain, stored) => {
        running++;
        peak = Math.max(peak, running);
        try {
          return await verifyPassword(plain, stored);
        } finally {
          running--;
        }
      },
    });
    const logins = Array.from({ length: 7 }, (_, i) => checker.verify(`dev${i}`, i % 2 ? 'p' : 'q', hash));
    expect(await Promise.all(logins)).toEqual([false, true, false, true, false, true, false]);
    expect(checker.computed).toBe(7);
    expect(peak).toBe(2);
  });

  it('keeps its memory bounded, forgetting the least recently used first', async () => {
    const hash = await hashPassword('p');
    const checker = new PasswordChecker({ maxAccepted: 2 });
    await checker.verify('a', 'p', hash);
    await checker.verify('b', 'p', hash);
    await checker.verify('a', 'p', hash); // a is now the most recent
    await checker.verify('c', 'p', hash); // pushes b out
    expect(checker.computed).toBe(3);
    await checker.verify('a', 'p', hash);
    expect(checker.computed).toBe(3);
    await checker.verify('b', 'p', hash);
    expect(checker.computed).toBe(4);
  });
});
