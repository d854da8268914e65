// A private Debian mosquitto on a free loopback port, anonymous access: the tests' "existing
// site broker" is the same as the bench's (bench/mosquitto.ts).
export { MOSQUITTO, startMosquitto } from '../../bench/mosquitto.js';
export { freePort } from '../../gateway/store/influxd.js';
