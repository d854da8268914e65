import { describe, expect, it } from 'vitest';
import { StoreRejectedError } from './errors.js';
import { pointLine } from './line-protocol.js';
import type { Point } from './driver.js';
import { storableLines, writePoints } from './write-points.js';

const lift = (floor: unknown, tsUs: number): Point => ({
  measurement: 'lift',
  tags: { device: 'lift-a' },
  fields: { floor: floor as number },
  tsUs,
});

describe('the one write path', () => {
  it('makes storable points into their lines, in order, and names the first reason for the rest', () => {
    const points = [lift(1, 1), lift(1.5, 2), lift(3, 3), lift('x', 4)];
    expect(storableLines(points)).toEqual({
      lines: [pointLine(points[0]!), pointLine(points[2]!)],
      refused: [points[1], points[3]],
      reason: expect.stringMatching(/floor must be int/),
    });
  });

  it('sends the storable lines in one request through writeLines, then refuses the others', async () => {
    const sent: string[][] = [];
    const driver = { name: 'stub', writeLines: async (lines: string[]) => void sent.push(lines) };
    const err = await writePoints(driver, [lift(1, 1), lift(1.5, 2), lift(2, 3)]).catch((e: unknown) => e);
    expect(sent).toEqual([[pointLine(lift(1, 1)), pointLine(lift(2, 3))]]);
    expect(err).toBeInstanceOf(StoreRejectedError);
    expect((err as StoreRejectedError).points).toEqual([lift(1.5, 2)]);
    await writePoints(driver, []);
    expect(sent).toHaveLength(1);
  });
});
