// Kept only for simulators/modbus/fleet.test.ts, which its owners move to ../../ports/clock.js;
// delete this file then. The adapter itself imports from ports.
export { realTimers, type Timers } from '../../ports/clock.js';
