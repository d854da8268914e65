import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import pino from 'pino';
import { afterEach } from 'vitest';
import type { ModbusRequestError } from '../gateway/adapters/modbus/errors.js';
import { device, type ModbusDeviceConfig } from '../gateway/config/schema.js';
import { waitFor as waitUntil } from './support/wait.js';

// Shared by the Modbus tests: a bounded wait, helper processes, and site-file
// device entries parsed by the real schema (so defaults are the site file's defaults).

export const quietLogger = pino({ level: 'silent' });

/** Polls `cond` every 5 ms until it is truthy; fails with `what` after `timeoutMs`. */
export const waitFor = <T>(cond: () => T | undefined | null | false, timeoutMs: number, what: string): Promise<T> =>
  waitUntil(cond, what, timeoutMs, 5) as Promise<T>;

/** The first line a helper process prints (its output may come in several chunks). */
export function firstLine(child: ChildProcessByStdio<Writable, Readable, null>): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`helper process exited (${code}) before printing a line: ${JSON.stringify(text)}`)),
    );
    child.stdout.on('data', (d: Buffer) => {
      text += d.toString();
      const end = text.indexOf('\n');
      if (end >= 0) resolve(text.slice(0, end).trim());
    });
  });
}

/** Lets every promise chain that is not waiting on a timer run to its end. */
export const settle = () => new Promise<void>((r) => setImmediate(r));

/** A Modbus device entry as the site file has it, parsed by the schema. */
export function modbusDevice(d: {
  id: string;
  kind: string;
  profile: string;
  host?: string;
  port?: number;
  unitId: number;
  timeoutMs?: number;
  intervalS: number;
  transport?: 'tcp' | 'rtu';
  serialPort?: string;
  baudRate?: number;
}): ModbusDeviceConfig {
  const parsed = device.parse({
    id: d.id,
    kind: d.kind,
    protocol: 'modbus',
    profile: d.profile,
    place: { building: 'b1' },
    poll_interval_s: d.intervalS,
    connection: {
      transport: d.transport ?? 'tcp',
      ...(d.host !== undefined ? { host: d.host } : {}),
      ...(d.port !== undefined ? { port: d.port } : {}),
      ...(d.serialPort !== undefined ? { serial_port: d.serialPort } : {}),
      ...(d.baudRate !== undefined ? { baud_rate: d.baudRate } : {}),
      unit_id: d.unitId,
      ...(d.timeoutMs !== undefined ? { timeout_ms: d.timeoutMs } : {}),
    },
  });
  if (parsed.protocol !== 'modbus') throw new Error('not a modbus device');
  return parsed;
}

/** A logger that keeps what it logs, to check what was said and how often. */
export function recordingLogger(): {
  logger: pino.Logger;
  lines: { level: number; msg: string; [key: string]: unknown }[];
  /** Messages at warn containing `text`, in order. */
  warnings: (text: string) => string[];
  /** Messages at info containing `text`, in order. */
  infos: (text: string) => string[];
} {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (l: string) => void lines.push(JSON.parse(l) as { level: number; msg: string }) },
  );
  const at = (level: number) => (text: string) =>
    lines.filter((l) => l.level === level && l.msg.includes(text)).map((l) => l.msg);
  return { logger, lines, warnings: at(40), infos: at(30) };
}

/** Collects clean-ups during a test and runs them (last first) after it. Call at file level. */
export function cleanupEach(): (fn: () => Promise<void>) => void {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  return (fn) => void cleanups.push(fn);
}

/** The error a request that must fail failed with. */
export const failure = (p: Promise<unknown>): Promise<ModbusRequestError> =>
  p.then(
    () => {
      throw new Error('expected the request to fail');
    },
    (err: ModbusRequestError) => err,
  );

/**
 * Runs a small Python script for what Node cannot do (a socket that never accepts, a pty
 * pair); it lives until its stdin closes, at clean-up. Resolves with the first line it prints.
 */
export async function pythonHelper(script: string, onCleanup: (fn: () => Promise<void>) => void): Promise<string> {
  const child = spawn('python3', ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  onCleanup(async () => {
    child.stdin.end();
    if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
  });
  return firstLine(child);
}

/** Two tty paths joined like a null-modem cable; a small Python process holds the pty masters. */
export async function nullModem(
  onCleanup: (fn: () => Promise<void>) => void,
): Promise<[gatewaySide: string, deviceSide: string]> {
  const script = [
    'import os, pty, select, sys, tty',
    'a_master, a_slave = pty.openpty()',
    'b_master, b_slave = pty.openpty()',
    'tty.setraw(a_slave); tty.setraw(b_slave)',
    'print(os.ttyname(a_slave), os.ttyname(b_slave), flush=True)',
    'peer = {a_master: b_master, b_master: a_master}',
    'while True:',
    '    ready = select.select([a_master, b_master, sys.stdin], [], [])[0]',
    '    if sys.stdin in ready and not sys.stdin.read(1): break',
    '    for fd in ready:',
    '        if fd in peer:',
    '            try: os.write(peer[fd], os.read(fd, 4096))',
    '            except OSError: pass',
  ].join('\n');
  const line = await pythonHelper(script, onCleanup);
  const [a, b] = line.split(' ');
  if (!a || !b) throw new Error(`the pty bridge said ${JSON.stringify(line)}`);
  return [a!, b!];
}
