import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyHandover, HandoverError, handOver, pendingFor, type Handover } from './handover.js';

const PEOPLE = ['otto', 'max', 'ada', 'mia'] as const;
const shift = {
  id: 'day',
  name: { zh: '白班', en: 'Day shift' },
  from: 0,
  to: 34_200_000,
  handover: { from: 0, to: 1_800_000 },
};

type Cmd = { type: 'hand'; by: string; to: string } | { type: 'confirm' | 'cancel'; id: number; by: string };
const person = fc.constantFrom(...PEOPLE);
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({ type: fc.constant('hand' as const), by: person, to: person }),
  fc.record({
    type: fc.constantFrom('confirm' as const, 'cancel' as const),
    id: fc.integer({ min: 1, max: 6 }),
    by: person,
  }),
);

describe('handover records', () => {
  it('over any order of hand-overs, confirmations and cancellations: one pending handover per person at most; only the recipient confirms, only the giver cancels, each once', () => {
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 40 }), (cmds) => {
        const state = new Map<string, Handover>();
        let n = 1;
        cmds.forEach((c, now) => {
          const before = structuredClone([...state.values()]);
          try {
            if (c.type === 'hand')
              applyHandover(state, handOver(state, { id: `ho-${n++}`, by: c.by, to: c.to, shift, cases: [] }, now));
            else {
              const h = pendingFor(state, `ho-${c.id}`, c.by, c.type === 'confirm' ? 'recipient' : 'giver');
              expect(c.type === 'confirm' ? h.to : h.from).toBe(c.by);
              applyHandover(
                state,
                c.type === 'confirm'
                  ? { type: 'confirmed', id: h.id, by: c.by, handedOver: [], at: now }
                  : { type: 'cancelled', id: h.id, by: c.by, at: now },
              );
            }
          } catch (err) {
            expect(err).toBeInstanceOf(HandoverError);
            // A refusal records nothing.
            expect([...state.values()]).toEqual(before);
          }
          const pending = [...state.values()].filter((h) => h.status === 'pending');
          expect(new Set(pending.map((h) => h.from)).size).toBe(pending.length);
          for (const h of state.values()) expect(h.from).not.toBe(h.to);
        });
      }),
    );
  });

  it('marks a handover made outside the window', () => {
    const inWindow = handOver(new Map(), { id: 'ho-1', by: 'otto', to: 'max', shift, cases: [] }, 60_000);
    const late = handOver(new Map(), { id: 'ho-1', by: 'otto', to: 'max', shift, cases: [] }, 1_800_000);
    expect([
      inWindow.type === 'handed' && inWindow.handover.inWindow,
      late.type === 'handed' && late.handover.inWindow,
    ]).toEqual([true, false]);
  });
});
