// The site file as the other folders read it: the simulators build their estate from the same
// file the gateway runs on. The schema itself lives in ../config/schema.ts.

export {
  floorsOf,
  type BuildingConfig,
  type DeviceConfig,
  type Floor,
  type ModbusDeviceConfig,
  type MqttDeviceConfig,
  type SiteConfig,
} from '../config/schema.js';
