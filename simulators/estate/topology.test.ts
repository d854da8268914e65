import { describe, expect, it } from 'vitest';
import { PowerTopology, type FeederFaults } from './topology.js';

//   grid ─ inc ─┬─ lifts ─ lift-a
//               └─ pumps ─┬─ booster
//                         └─ sub ─ sump
//   other (no feeder)
const tree = new PowerTopology([
  { id: 'lift-a', feeder: 'lifts' },
  { id: 'inc' },
  { id: 'lifts', feeder: 'inc' },
  { id: 'pumps', feeder: 'inc' },
  { id: 'booster', feeder: 'pumps' },
  { id: 'sub', feeder: 'pumps' },
  { id: 'sump', feeder: 'sub' },
  { id: 'other' },
]);

const faults =
  (set: Record<string, Partial<FeederFaults>>) =>
  (id: string): FeederFaults | undefined =>
    set[id] && { cut: false, tripped: false, lostPhases: [], ...set[id] };

describe('power topology', () => {
  it('knows the feeder chain up and everything below a meter', () => {
    expect(tree.ancestors('sump')).toEqual(['sub', 'pumps', 'inc']);
    expect(tree.descendants('pumps').sort()).toEqual(['booster', 'sub', 'sump']);
    expect(tree.children('inc')).toEqual(['lifts', 'pumps']);
    expect(tree.depth('other')).toBe(0);
  });

  it('orders devices deepest first, so loads can be summed bottom-up', () => {
    const order = tree.bottomUp();
    for (const [child, parent] of [
      ['sump', 'sub'],
      ['sub', 'pumps'],
      ['pumps', 'inc'],
      ['lift-a', 'lifts'],
    ]) {
      expect(order.indexOf(child!), `${child} before ${parent}`).toBeLessThan(order.indexOf(parent!));
    }
  });

  it('a cut takes the supply of everything below it, at any depth; the cut meter itself reads "cut"', () => {
    const f = faults({ inc: { cut: true } });
    expect(tree.supply('inc', f)).toBe('cut');
    for (const id of ['lifts', 'pumps', 'booster', 'sub', 'sump', 'lift-a']) expect(tree.supply(id, f), id).toBe('off');
    expect(tree.supply('other', f)).toBe('live');
  });

  it('a trip keeps the tripped meter live and switches off what it feeds', () => {
    const f = faults({ pumps: { tripped: true } });
    expect(tree.supply('pumps', f)).toBe('live');
    expect(tree.supply('sump', f)).toBe('off');
    expect(tree.supply('lift-a', f)).toBe('live');
  });

  it('a lost phase is lost below too', () => {
    const f = faults({ inc: { lostPhases: [3] }, sub: { lostPhases: [1] } });
    expect(tree.lostPhases('sump', f)).toEqual([1, 3]);
    expect(tree.lostPhases('lift-a', f)).toEqual([3]);
    expect(tree.lostPhases('other', f)).toEqual([]);
  });

  it('refuses a feeder loop and ignores a feeder that is not part of the estate', () => {
    expect(
      () =>
        new PowerTopology([
          { id: 'a', feeder: 'b' },
          { id: 'b', feeder: 'a' },
        ]),
    ).toThrow(/loop/);
    expect(new PowerTopology([{ id: 'a', feeder: 'elsewhere' }]).ancestors('a')).toEqual([]);
  });
});
