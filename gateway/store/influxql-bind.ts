/**
 * Bound parameters of an InfluxQL statement, put into its text as string literals.
 *
 * InfluxDB 1.x binds `$name` itself (`params=` of /query). The 1.x-compatible /query of
 * InfluxDB 2.x and 3.x is not documented to take `params`, so the 2.x/3.x driver binds them
 * here: each value becomes a single-quoted InfluxQL string literal with `\` and `'` escaped,
 * which the parser reads back as exactly that value and never as query text. Only `$name`
 * outside quoted strings and identifiers is a placeholder; a placeholder without a value is
 * an error (it would otherwise reach the database as text).
 */
export function bindInfluxql(statement: string, params: Record<string, string>): string {
  let out = '';
  let quote: string | undefined;
  for (let i = 0; i < statement.length; i++) {
    const c = statement[i]!;
    if (quote) {
      out += c;
      if (c === '\\' && i + 1 < statement.length) out += statement[++i];
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    if (c !== '$') {
      out += c;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(statement.slice(i + 1))?.[0];
    if (!name) throw new Error(`InfluxQL statement has a "$" that names no parameter: ${statement}`);
    const value = params[name];
    if (value === undefined) throw new Error(`InfluxQL parameter $${name} has no value`);
    out += stringLiteral(value);
    i += name.length;
  }
  return out;
}

/** An InfluxQL string literal holding exactly `value`. */
export function stringLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
