import { applyOverride } from '../../rules/incidents/playbook.js';
import { loadPlaybooks } from '../incidents/playbooks.js';
import { loadRegisterProfiles } from '../profiles/profile.js';
import { loadPayloadProfiles } from '../profiles/payload.js';
import { loadConfigFile, type ExtraCheck, type LoadedConfig } from './load.js';
import { projectPath } from '../files/paths.js';

export const DEFAULT_CONFIG = projectPath('config', 'demo-site.yaml');

/** Checks a site file needs beyond its schema: payload (MQTT) and register (Modbus) profiles that exist and fit the kind. */
export const profileCheck: ExtraCheck = (cfg) => {
  const payloadProfiles = loadPayloadProfiles();
  const registerProfiles = loadRegisterProfiles();
  return cfg.devices.flatMap((d, i) => {
    const path = ['devices', i, 'profile'];
    if (d.protocol === 'mqtt') {
      const p = payloadProfiles.get(d.profile);
      if (!p)
        return [
          { path, message: `no payload profile "${d.profile}" (have: ${[...payloadProfiles.keys()].join(', ')})` },
        ];
      if (!p.kinds.includes(d.kind))
        return [{ path, message: `payload profile "${d.profile}" is for ${p.kinds.join(', ')}, not ${d.kind}` }];
      return [];
    }
    const r = registerProfiles.get(d.profile);
    if (!r)
      return [
        {
          path,
          message: `no register profile "${d.profile}" (have: ${[...registerProfiles.keys()].sort().join(', ')})`,
        },
      ];
    if (r.kind !== d.kind)
      return [{ path, message: `register profile "${d.profile}" is for ${r.kind}, not ${d.kind}` }];
    return [];
  });
};

/** Playbook overrides of a site file must name shipped playbooks and their steps. */
export const playbookCheck: ExtraCheck = (cfg) => {
  const shipped = loadPlaybooks();
  return Object.entries(cfg.playbooks ?? {}).flatMap(([id, o]) => {
    const p = shipped.byId.get(id);
    if (!p)
      return [
        { path: ['playbooks', id], message: `no playbook "${id}" (have: ${[...shipped.byId.keys()].join(', ')})` },
      ];
    return applyOverride(p, o).problems.map((x) => ({ path: ['playbooks', id, ...x.path], message: x.message }));
  });
};

/** A site file, validated with everything the gateway checks before it starts. */
export function loadSite(file: string, env?: NodeJS.ProcessEnv): LoadedConfig {
  return loadConfigFile(file, { extraChecks: [profileCheck, playbookCheck], ...(env ? { env } : {}) });
}
