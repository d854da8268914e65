import type { AdapterKind } from '../adapter.js';
import { ModbusAdapter } from './adapter.js';

/** The Modbus adapter of a site: its devices with `protocol: modbus`, read with the register profiles. */
export const modbusAdapter: AdapterKind = {
  protocol: 'modbus',
  component: 'modbus',
  create: ({ config, clock, timers, metrics, logger, profiles }) =>
    new ModbusAdapter({
      devices: config.devices.flatMap((d) => (d.protocol === 'modbus' ? [d] : [])),
      profiles: profiles.register,
      clock,
      timers,
      metrics,
      logger,
    }),
};
