// The poller schedules with injected timers, so that the backoff and skip rules can be
// tested by ticking a fake clock instead of sleeping, and the demo can run them faster.
export { realTimers, type Timers } from '../../clock.js';
