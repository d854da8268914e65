import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventLog } from '../gateway/files/event-log.js';
import { ManualClock } from '../gateway/ports/manual-clock.js';
import { loadRegisterProfiles } from '../gateway/profiles/profile.js';
import { DEFAULT_CONFIG, loadSite } from '../gateway/config/site.js';
import type { DrillRecord } from '../simulators/drill/controller.js';
import { simDevices } from '../simulators/estate/site.js';
import { FakeEstate } from '../simulators/scenarios/fake-estate.js';
import { formatOffset } from '../simulators/scenarios/schema.js';
import { createDrills } from './drills.js';

const S = 1000;

describe('createDrills', () => {
  it('checks the shipped scenarios against the estate, journals to a file that survives a restart, ticks itself', async () => {
    const { config } = loadSite(DEFAULT_CONFIG, { DUTYROOM_DATA_DIR: '/nonexistent' });
    const estate = new FakeEstate(Date.parse('2026-11-22T10:00:00+08:00'), simDevices(config, loadRegisterProfiles()));
    const clock = new ManualClock(estate.ms);
    const journalFile = join(mkdtempSync(join(tmpdir(), 'drills-')), 'drills', 'journal.jsonl');
    // The estate's clock and the drills' ticking are one virtual clock: a tick is due every 200 ms.
    const drills = await createDrills({
      estate,
      clock,
      timers: clock,
      site: { id: config.site.id, timezone: config.site.timezone },
      journalFile,
    });
    expect(drills.scenarios().map((s) => [s.name, s.fits, s.problems])).toEqual(
      [
        'boiler-failure',
        'flood-basement',
        'grid-outage',
        'internal-circuit-fault',
        'lift-entrapment',
        'vacant-unit-leak',
      ].map((n) => [n, true, []]),
    );
    const d = await drills.start('grid-outage', 'duty');
    expect(estate.active()).toEqual(['t1-booster-pump:pump_fail']);
    clock.advance(60 * S);
    expect(estate.active()).toEqual([
      't1-booster-pump:pump_fail',
      't1-incomer:power_cut',
      't1-lift-a:lift_stuck',
      't1-lift-b:lift_stuck',
    ]);
    // The listing (the drills page) says each step in the drill log's words, and names the playbooks it expects by title.
    const listed = drills.scenarios().find((s) => s.name === 'grid-outage')!;
    const logged = drills.get(d.id).log.map((l) => l.what);
    expect(logged.length).toBe(4);
    expect(logged).toEqual(
      listed.timeline
        .filter((s) => s.at <= 60)
        .map((s) => ({ zh: `${formatOffset(s.at)} ${s.what.zh}`, en: `${formatOffset(s.at)} ${s.what.en}` })),
    );
    expect(listed.timeline[2]).toEqual({
      at: 60,
      id: 'lift-a-stuck',
      action: 'inject',
      what: {
        zh: 't1-lift-a：注入电梯停梯困人，3 名乘客，非平层',
        en: 't1-lift-a: lift stuck, 3 passengers, between floors',
      },
    });
    expect(listed.timeline[4]).toMatchObject({
      at: 1260,
      action: 'clear',
      what: { en: 't1-incomer: power cut cleared' },
      note: { en: 'Power returns' },
    });
    expect(Object.keys(listed.playbookTitles)).toEqual(['power_cut', 'trapped_lift', 'pump_failure']);
    expect(listed.playbookTitles.power_cut!.en).not.toBe('power_cut');
    await drills.close();
    expect(clock.pending()).toBe(0);
    expect(estate.active()).toEqual([]);
    const lines = readFileSync(journalFile, 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { record: DrillRecord }).record.type)).toEqual([
      'started',
      'applied',
      'ended',
    ]);

    // Another site's estate: the same scenarios are listed as not fitting, with file and line.
    const other = await createDrills({
      estate: new FakeEstate(),
      clock,
      timers: clock,
      site: { id: 'elsewhere' },
      journalFile,
      tickMs: 0,
    });
    const grid = other.scenarios().find((s) => s.name === 'grid-outage')!;
    expect(grid.fits).toBe(false);
    expect(grid.problems[0]).toMatch(
      /grid-outage\.yaml:\d+:\d+ {2}site: written for site "huayuan", this is site "elsewhere"$/,
    );
    expect(other.get(d.id)).toMatchObject({ status: 'interrupted', scenario: 'grid-outage' });
    await other.close();
    // The journal is a plain event log: readable by anyone who wants the history.
    const log = new EventLog<DrillRecord>(journalFile);
    expect((await log.open()).map((e) => e.seq)).toEqual([1, 2, 3]);
    await log.close();
  });
});
