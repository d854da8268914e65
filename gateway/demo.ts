import { resolve } from 'node:path';
import { startModbusFleet, type RunningModbusFleet } from '../simulators/modbus/fleet.js';
import { startMqttSimulator, type RunningMqttSimulator } from '../simulators/mqtt/publisher.js';
import { loadRegisterProfiles } from './profiles/profile.js';
import { loadSite } from './site.js';
import { startGateway, type RunningGateway } from './gateway.js';

/** The demo estate's passwords, as written (hashed) in config/demo-site.yaml. Demo only. */
export const DEMO_LOGINS = {
  users: [
    { username: 'admin', password: 'dutyroom-admin', role: 'admin' },
    { username: 'duty', password: 'dutyroom-duty', role: 'operator' },
    { username: 'viewer', password: 'dutyroom-view', role: 'viewer' },
  ],
  devicePassword: 'demo-device',
  accounts: { zigbee2mqtt: 'demo-bridge', 'bms-screen': 'dutyroom-view' } as Record<string, string>,
  apiToken: 'demo-token-grafana',
};

/** Gateway + local InfluxDB + simulated MQTT and Modbus devices of the demo estate. */
export async function runDemo(opts: { file: string; speed: number; env?: NodeJS.ProcessEnv }): Promise<{ stop(): Promise<void>; gateway: RunningGateway }> {
  const { config, baseDir } = loadSite(opts.file, opts.env);
  // The Modbus servers first, so the gateway's first polls already get answers.
  const fleet: RunningModbusFleet = await startModbusFleet({ config, profiles: loadRegisterProfiles(), speed: opts.speed, seed: 2026 });
  let gateway: RunningGateway;
  try {
    gateway = await startGateway({ config, baseDir });
  } catch (err) {
    await fleet.stop();
    throw err;
  }
  let sim: RunningMqttSimulator | undefined;
  try {
    sim = await startMqttSimulator({
      url: gateway.brokerUrl,
      config,
      profiles: gateway.profiles,
      passwordOf: (login) => DEMO_LOGINS.accounts[login] ?? DEMO_LOGINS.devicePassword,
      speed: opts.speed,
      seed: 2026,
    });
  } catch (err) {
    await gateway.stop();
    await fleet.stop();
    throw err;
  }
  const modbus = config.devices.filter((d) => d.protocol === 'modbus').length;
  console.log(`
  dutyroom demo — ${typeof config.site.name === 'string' ? config.site.name : `${config.site.name.zh} ${config.site.name.en}`}
  ─────────────────────────────────────────────────────────────
  API / dashboard   ${gateway.httpUrl}
  devices (JSON)    ${gateway.httpUrl}/api/devices   (log in first, or use the token below)
  health, metrics   ${gateway.httpUrl}/health   ${gateway.httpUrl}/metrics
  MQTT broker       ${gateway.brokerUrl}   (device login: its id / ${DEMO_LOGINS.devicePassword})

  logins            ${DEMO_LOGINS.users.map((u) => `${u.username} / ${u.password} (${u.role})`).join('   ')}
  API token         curl -H 'Authorization: Bearer ${DEMO_LOGINS.apiToken}' ${gateway.httpUrl}/api/devices

  simulated         ${config.devices.length - modbus} MQTT devices; ${modbus} Modbus devices on ${[...fleet.servers.keys()].join(', ')}
  Ctrl-C stops everything (readings stay in ${resolve(baseDir, config.data_dir)}).
`);
  return {
    gateway,
    async stop() {
      await sim?.stop();
      await gateway.stop();
      await fleet.stop();
    },
  };
}
