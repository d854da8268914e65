import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../config/load.js';
import { playbookCheck } from '../config/site.js';
import { loadPlaybooks } from './playbooks.js';

const site = (extra: string) => `
site: { id: s, name: S }
buildings: [{ id: b1, name: B1, floors: { lowest: 1, highest: 3 } }]
${extra}`;

describe('playbooks with site overrides', () => {
  it('a site moves deadlines and adds its own steps where it wants them', () => {
    const cfg = parseConfig(
      site(`playbooks:
  trapped_lift:
    deadlines: { maintenance_arrived: 30 }
    add_steps:
      - { after: call_maintenance, id: tell_property_manager, title: { zh: 通知物业经理, en: Tell the property manager }, role: duty_manager, deadline_min: 10 }
`),
      'site.yaml',
      { env: {}, extraChecks: [playbookCheck] },
    );
    const p = loadPlaybooks(undefined, cfg.playbooks ?? {}).byId.get('trapped_lift')!;
    expect(p.steps.find((s) => s.id === 'maintenance_arrived')!.deadline_min).toBe(30);
    const ids = p.steps.map((s) => s.id);
    expect(ids.slice(ids.indexOf('call_maintenance'), ids.indexOf('call_maintenance') + 2)).toEqual([
      'call_maintenance',
      'tell_property_manager',
    ]);
    expect(
      loadPlaybooks()
        .byId.get('trapped_lift')!
        .steps.find((s) => s.id === 'maintenance_arrived')!.deadline_min,
    ).toBe(15);
  });

  it('refuses overrides that do not fit, with path and line', () => {
    try {
      parseConfig(
        site(`playbooks:
  trapped_lift:
    deadlines: { teleport: 3 }
  alien_invasion:
    deadlines: { x: 1 }
`),
        'site.yaml',
        { env: {}, extraChecks: [playbookCheck] },
      );
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems.map((p) => `${p.line} ${p.path}: ${p.message}`)).toEqual([
        expect.stringMatching(
          /^6 playbooks\.trapped_lift\.deadlines\.teleport: playbook trapped_lift has no step "teleport"/,
        ),
        expect.stringMatching(/^8 playbooks\.alien_invasion: no playbook "alien_invasion"/), // the line of its block
      ]);
    }
  });
});
