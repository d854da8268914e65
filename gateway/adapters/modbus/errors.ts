/**
 * Why one Modbus request failed; each is a `result` label of dutyroom_modbus_requests_total.
 * - timeout: no answer in time (a dead or unpowered slave, a wrong unit id, a broken line);
 * - exception: the slave answered with a Modbus exception (wrong register or function);
 * - connection: the TCP endpoint or serial port could not be opened or dropped mid-request;
 * - protocol: an answer that does not fit the request (CRC, length, wrong unit).
 */
export type RequestFailure = 'timeout' | 'exception' | 'connection' | 'protocol';

export class ModbusRequestError extends Error {
  constructor(
    readonly failure: RequestFailure,
    message: string,
    /** The Modbus exception code, for `exception`. */
    readonly exceptionCode?: number,
  ) {
    super(message);
    this.name = 'ModbusRequestError';
  }
}

/** The text modbus-serial gives each exception code, shortened for logs. */
const EXCEPTIONS: Record<number, string> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'slave device failure',
  6: 'slave device busy',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};

/** Sorts an error from modbus-serial (or the socket under it) into a RequestFailure. */
export function classify(err: unknown): ModbusRequestError {
  if (err instanceof ModbusRequestError) return err;
  const e = (err ?? {}) as { message?: unknown; modbusCode?: unknown; errno?: unknown; code?: unknown };
  const message = typeof e.message === 'string' && e.message ? e.message : String(err);
  if (typeof e.modbusCode === 'number') {
    return new ModbusRequestError(
      'exception',
      `Modbus exception ${e.modbusCode} (${EXCEPTIONS[e.modbusCode] ?? 'unknown'})`,
      e.modbusCode,
    );
  }
  if (e.errno === 'ETIMEDOUT') return new ModbusRequestError('timeout', message);
  const code = typeof e.code === 'string' ? e.code : typeof e.errno === 'string' ? e.errno : '';
  if (/^E(CONN|HOST|NET|PIPE|ADDR|NOENT|ACCES|BUSY)/.test(code) || /port not open/i.test(message)) {
    return new ModbusRequestError('connection', code && !message.includes(code) ? `${code}: ${message}` : message);
  }
  return new ModbusRequestError('protocol', message);
}
