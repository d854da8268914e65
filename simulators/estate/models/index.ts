import type { DeviceKind } from '../../../rules/model/fields.js';
import { boiler } from './boiler.js';
import { electricityMeter } from './electricity-meter.js';
import { leakSensor } from './leak-sensor.js';
import { levelSensor } from './level-sensor.js';
import { lift } from './lift.js';
import type { DeviceModel } from './model.js';
import { pump } from './pump.js';
import { waterMeter } from './water-meter.js';

/** The behaviour of each device kind. Adding a kind = a file here and a row (see simulators/README.md). */
export const MODELS: Record<DeviceKind, DeviceModel<unknown>> = {
  water_meter: waterMeter,
  electricity_meter: electricityMeter,
  lift,
  pump,
  boiler,
  leak_sensor: leakSensor,
  level_sensor: levelSensor,
};

export type { DeviceModel, EstateView, ReportEnv, StepEnv } from './model.js';
