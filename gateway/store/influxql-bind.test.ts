import { describe, expect, it } from 'vitest';
import { bindInfluxql, stringLiteral } from './influxql-bind.js';

describe('bindInfluxql', () => {
  it('puts each placeholder in as a quoted, escaped string literal', () => {
    expect(
      bindInfluxql(`SELECT "x" FROM "m" WHERE "device" = $device AND "building" = $b1 AND time >= 0ms`, {
        device: "it's \\ a; DROP",
        b1: 't1',
      }),
    ).toBe(`SELECT "x" FROM "m" WHERE "device" = 'it\\'s \\\\ a; DROP' AND "building" = 't1' AND time >= 0ms`);
  });

  it('leaves "$" inside quoted strings and identifiers alone', () => {
    expect(bindInfluxql(`SELECT "a$b" FROM "m" WHERE "t" = 'x$y\\'$z' AND "d" = $d`, { d: 'v' })).toBe(
      `SELECT "a$b" FROM "m" WHERE "t" = 'x$y\\'$z' AND "d" = 'v'`,
    );
  });

  it('refuses a placeholder without a value, and a bare "$"', () => {
    expect(() => bindInfluxql('SELECT * FROM "m" WHERE "device" = $device', {})).toThrow(/\$device has no value/);
    expect(() => bindInfluxql('SELECT * FROM "m" WHERE "device" = $ ', {})).toThrow(/names no parameter/);
  });

  it('makes literals that a statement cannot be broken out of', () => {
    expect(stringLiteral("a'b")).toBe("'a\\'b'");
    expect(stringLiteral("a\\'")).toBe("'a\\\\\\''");
  });
});
