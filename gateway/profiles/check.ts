import { FIELDS, type FieldDef } from '../../rules/model/fields.js';
import { fieldSpan, isBitFunction, TYPE_INFO, type DataType, type Span } from './datatypes.js';
import type { RegisterField, RegisterProfile } from './profile.js';

// What the schema alone cannot say: a profile must decode into the canonical catalogue of its
// kind (DOMAIN.md §1), and every register must be readable the way the profile says. Found at
// load time so a wrong profile stops the gateway instead of producing wrong readings.

export interface Problem {
  path: (string | number)[];
  message: string;
}

const SIXTEEN_BIT: readonly DataType[] = ['bit', 'int16', 'uint16'];

export function checkProfile(profile: RegisterProfile): Problem[] {
  const problems: Problem[] = [];
  const catalogue = FIELDS[profile.kind];

  profile.no_span.forEach((r, i) => {
    if (r.from > r.to) problems.push({ path: ['no_span', i, 'to'], message: `must not be below from (${r.from})` });
    if (r.from < profile.addressing)
      problems.push({
        path: ['no_span', i, 'from'],
        message: `below the first register of ${profile.addressing}-based numbering`,
      });
  });

  for (const [name, field] of Object.entries(profile.fields)) {
    const at = (...rest: string[]) => ['fields', name, ...rest];
    const problem = (message: string, ...rest: string[]) => problems.push({ path: at(...rest), message });
    const canon = catalogue[name];
    if (!canon) {
      problem(`"${name}" is not a ${profile.kind} field (known: ${Object.keys(catalogue).join(', ')})`);
      continue;
    }
    checkPlacement(profile, field, problem);
    checkAgainstCatalogue(field, canon, problem);
    if (field.writable) checkWritable(field, canon, problem);
  }
  return problems;
}

type Report = (message: string, ...path: string[]) => void;

function checkPlacement(profile: RegisterProfile, field: RegisterField, problem: Report): void {
  const info = TYPE_INFO[field.type];
  if (isBitFunction(field.function) !== (field.type === 'bool')) {
    problem(
      isBitFunction(field.function)
        ? `function ${field.function} reads coils/discrete inputs: the type must be bool`
        : `bool is for coils/discrete inputs (function 1 or 2); a flag inside a register is type bit with a bit number`,
      'type',
    );
  }
  if (field.type === 'bit' && field.bit === undefined) problem('a bit field needs the bit number (0-15)', 'bit');
  if (field.type !== 'bit' && field.bit !== undefined) problem('bit is only for type bit', 'bit');
  if ((field.order === 'AB' || field.order === 'BA') && !SIXTEEN_BIT.includes(field.type)) {
    problem(`${field.order} is a 16-bit order; ${field.type} needs ABCD, CDAB, BADC or DCBA`, 'order');
  }
  if (field.register < profile.addressing)
    problem(`register ${field.register} does not exist in 1-based numbering`, 'register');

  if (field.add) {
    if (isBitFunction(field.function)) problem('add is for register values', 'add');
    if (field.add.register < profile.addressing)
      problem(`register ${field.add.register} does not exist in 1-based numbering`, 'add', 'register');
    if ((field.add.order === 'AB' || field.add.order === 'BA') && !SIXTEEN_BIT.includes(field.add.type)) {
      problem(`${field.add.order} is a 16-bit order`, 'add', 'order');
    }
    const a = [field.register, field.register + info.words];
    const b = [field.add.register, field.add.register + TYPE_INFO[field.add.type].words];
    if (a[0]! < b[1]! && b[0]! < a[1]!) problem('the added register overlaps the field', 'add', 'register');
  }

  const span = fieldSpan(profile.addressing, field);
  if (span.start + span.count > 0x10000) problem(`reaches past the last Modbus address 65535`, 'register');
  const limit = isBitFunction(field.function) ? profile.max_bits_per_read : profile.max_registers_per_read;
  if (span.count > limit)
    problem(`needs ${span.count} registers in one read but the device reads at most ${limit}`, 'register');
  for (const r of profile.no_span) {
    if (r.function !== undefined && r.function !== field.function) continue;
    if (overlaps(span, r.from - profile.addressing, r.to - profile.addressing)) {
      problem(`lies in the no_span range ${r.from}-${r.to}, which the device refuses to read`, 'register');
    }
  }

  if (field.no_data) {
    field.no_data.forEach((v, i) => {
      if (info.integer && !inRaw(field.type, v)) problem(`${v} is not a ${field.type} value`, 'no_data', String(i));
    });
  }
}

function checkAgainstCatalogue(field: RegisterField, canon: FieldDef, problem: Report): void {
  const info = TYPE_INFO[field.type];
  const flag = field.type === 'bool' || field.type === 'bit';
  const scaled = field.scale !== 1 || field.offset !== 0;

  if (field.invert && canon.type !== 'bool')
    problem(`invert is only for true/false fields; this is ${canon.type}`, 'invert');
  if (flag && (scaled || field.map))
    problem(`a ${field.type} is true/false: no scale, offset or map`, field.map ? 'map' : 'scale');
  if (field.add && (canon.type === 'bool' || canon.type === 'enum' || field.map)) problem('add is for numbers', 'add');

  if (field.map) {
    if (!info.integer) problem(`map translates integer codes; ${field.type} is not an integer type`, 'map');
    if (scaled) problem('a mapped field takes its values from the map: no scale or offset', 'scale');
    for (const [key, value] of Object.entries(field.map)) {
      const raw = Number(key);
      if (info.integer && !inRaw(field.type, raw)) problem(`code ${key} cannot occur in a ${field.type}`, 'map', key);
      const wrong = mapValueProblem(canon, value);
      if (wrong) problem(wrong, 'map', key);
    }
  }

  switch (canon.type) {
    case 'bool':
      if (!flag && !(info.integer && field.map))
        problem(
          `true/false field: use type bool (coil/input), bit (a bit of a register) or an integer type with a map`,
          'type',
        );
      break;
    case 'enum':
      if (!(info.integer && field.map))
        problem(
          `a state (${canon.values?.join('/')}) needs an integer type and a map from codes to states`,
          field.map ? 'type' : 'map',
        );
      break;
    case 'int':
      if (!info.integer) problem(`an integer field needs an integer type, not ${field.type}`, 'type');
      if (!Number.isInteger(field.scale) || !Number.isInteger(field.offset))
        problem('an integer field needs an integer scale and offset', 'scale');
      if (field.add && !TYPE_INFO[field.add.type].integer)
        problem('an integer field cannot add a float part', 'add', 'type');
      break;
    case 'float':
      if (flag) problem(`a number needs a numeric type, not ${field.type}`, 'type');
      break;
  }
}

// A command is encoded with the profile backwards, so every value it may send must have
// exactly one raw form.
function checkWritable(field: RegisterField, canon: FieldDef, problem: Report): void {
  if (field.function !== 1 && field.function !== 3) {
    problem(
      `only coils (function 1) and holding registers (function 3) can be written; this one is read with function ${field.function}`,
      'writable',
    );
  }
  if (field.add) problem('a value split over two registers cannot be written', 'writable');
  if (!field.map) return;
  const codes = new Map<string, string[]>();
  for (const [code, value] of Object.entries(field.map)) {
    const key = JSON.stringify(value);
    codes.set(key, [...(codes.get(key) ?? []), code]);
  }
  for (const [value, from] of codes) {
    if (from.length > 1)
      problem(`${value} comes from codes ${from.join(' and ')}: a write could not tell which one to send`, 'writable');
  }
  if (canon.type === 'bool') {
    const missing = ['true', 'false'].filter((v) => !codes.has(v));
    if (missing.length)
      problem(`the map has no code for ${missing.join(' or ')}: that value could not be written`, 'writable');
  }
}

function mapValueProblem(canon: FieldDef, value: string | boolean | number): string | undefined {
  switch (canon.type) {
    case 'enum':
      return typeof value === 'string' && canon.values?.includes(value)
        ? undefined
        : `"${String(value)}" is not one of ${canon.values?.join(', ')}`;
    case 'bool':
      return typeof value === 'boolean' ? undefined : `${JSON.stringify(value)} is not true/false`;
    case 'int':
      return typeof value === 'number' && Number.isInteger(value)
        ? undefined
        : `${JSON.stringify(value)} is not an integer`;
    case 'float':
      return typeof value === 'number' ? undefined : `${JSON.stringify(value)} is not a number`;
  }
}

function inRaw(type: DataType, v: number): boolean {
  const { min, max } = TYPE_INFO[type];
  return Number.isInteger(v) && min !== undefined && max !== undefined && v >= min && v <= max;
}

function overlaps(span: Span, from: number, to: number): boolean {
  return span.start <= to && from < span.start + span.count;
}
