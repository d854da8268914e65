import type { AdapterKind } from './adapter.js';
import { modbusAdapter } from './modbus/from-config.js';
import { mqttAdapter } from './mqtt/from-config.js';

/** Every protocol the gateway speaks, in the order they start (and appear in /health). */
export const ADAPTERS: readonly AdapterKind[] = [mqttAdapter, modbusAdapter];
