import { loadPayloadProfiles } from './adapters/mqtt/profile.js';
import { loadConfigFile, type ExtraCheck, type LoadedConfig } from './config/load.js';
import { projectPath } from './paths.js';

export const DEFAULT_CONFIG = projectPath('config', 'demo-site.yaml');

/** Checks a site file needs beyond its schema: payload profiles that exist and fit the kind. */
export const profileCheck: ExtraCheck = (cfg) => {
  const profiles = loadPayloadProfiles();
  return cfg.devices.flatMap((d, i) => {
    if (d.protocol !== 'mqtt') return [];
    const p = profiles.get(d.profile);
    if (!p) return [{ path: ['devices', i, 'profile'], message: `no payload profile "${d.profile}" (have: ${[...profiles.keys()].join(', ')})` }];
    if (!p.kinds.includes(d.kind)) return [{ path: ['devices', i, 'profile'], message: `payload profile "${d.profile}" is for ${p.kinds.join(', ')}, not ${d.kind}` }];
    return [];
  });
};

/** A site file, validated with everything the gateway checks before it starts. */
export function loadSite(file: string): LoadedConfig {
  return loadConfigFile(file, { extraChecks: [profileCheck] });
}
