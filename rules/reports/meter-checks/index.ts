import { consumptionSpike } from './consumption-spike.js';
import { continuousFlow } from './continuous-flow.js';
import { counterRollback } from './counter-rollback.js';
import { dataGap } from './data-gap.js';
import { nightFlowHigh } from './night-flow.js';
import { stuckMeter } from './stuck-meter.js';
import type { MeterCheck } from './types.js';
import { vacantUse } from './vacant-use.js';

/** In the report's order: anomalies starting at the same instant are listed in this order. */
export const METER_CHECKS: readonly MeterCheck[] = [
  counterRollback,
  dataGap,
  vacantUse,
  stuckMeter,
  consumptionSpike,
  continuousFlow,
  nightFlowHigh,
];
