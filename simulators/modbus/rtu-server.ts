import { SerialPort } from 'serialport';
import { parseRtuFrames, rtuFrame } from './frame.js';
import { SimulatedUnits, type SimulatedDevice, type SimulatedUnitsControl } from './units.js';

export type { RequestRecord, SimulatedDevice } from './units.js';

// The simulated devices as RTU slaves on a serial port: a USB-RS485 adapter wired to the
// gateway's, or one end of a pseudo-terminal pair (a virtual null-modem cable) for tests
// and demos. The units behave as on TCP (see units.ts), except that a serial line carries
// one answer at a time by nature.

export interface ModbusRtuServerOptions {
  /** Serial device, e.g. /dev/ttyUSB1 or /dev/pts/3. */
  path: string;
  /** Default 9600. */
  baudRate?: number;
  devices: SimulatedDevice[];
  unknownUnit?: 'silent' | 'exception';
}

export interface ModbusRtuServer extends SimulatedUnitsControl {
  readonly path: string;
  close(): Promise<void>;
}

export async function startModbusRtuServer(opts: ModbusRtuServerOptions): Promise<ModbusRtuServer> {
  const units = new SimulatedUnits(opts.devices, opts.unknownUnit);
  const port = new SerialPort({ path: opts.path, baudRate: opts.baudRate ?? 9600, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  port.on('error', () => undefined);
  let buffer: Buffer = Buffer.alloc(0);
  port.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    const parsed = parseRtuFrames(buffer);
    buffer = parsed.rest;
    for (const frame of parsed.frames) {
      units.handle(frame, (pdu) => {
        if (port.isOpen) port.write(rtuFrame(frame.unitId, pdu));
      });
    }
  });
  return {
    path: opts.path,
    set: (unitId, values) => units.set(unitId, values),
    setRaw: (unitId, fn, address, data) => units.setRaw(unitId, fn, address, data),
    setOffline: (unitId, offline) => units.setOffline(unitId, offline),
    setDelay: (unitId, ms) => units.setDelay(unitId, ms),
    requests: (unitId) => units.requests(unitId),
    async close() {
      units.close();
      if (port.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    },
  };
}
