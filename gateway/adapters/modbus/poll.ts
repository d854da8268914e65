import type { DeviceKind } from '../../../rules/model/fields.js';
import { checkFields, type FieldValue, type RejectReason } from '../../../rules/model/reading.js';
import type { FunctionCode } from '../../profiles/datatypes.js';
import type { RegisterProfile } from '../../profiles/profile.js';
import type { DecodeError } from '../../profiles/codec.js';
import { classify, type ModbusRequestError } from './errors.js';
import { decodeReadResult, type ReadRequest } from './plan.js';

// One poll of one device: its planned reads in order, each response decoded, each value
// checked against the catalogue on its own, so that one bad register (an unknown status
// code, a NaN from a broken sensor, a value out of range) costs only its own field.

export type ReadFn = (fn: FunctionCode, start: number, count: number) => Promise<number[] | boolean[]>;

/** A field left out of the reading, and why. */
export interface FieldProblem {
  field: string;
  error: DecodeError | RejectReason;
  detail: string;
  raw?: number;
}

export interface RequestOutcome {
  request: ReadRequest;
  /** Absent when the request was answered with data. */
  failure?: ModbusRequestError;
}

export interface PollResult {
  /** At least one request was answered with data: the device is there. */
  answered: boolean;
  /** Decoded and checked fields, ready for a Reading (may be empty). */
  fields: Record<string, FieldValue>;
  problems: FieldProblem[];
  /** One per request sent. */
  requests: RequestOutcome[];
  /** Requests not sent because an earlier one timed out or the line was down. */
  abandoned: number;
}

export async function pollDevice(
  kind: DeviceKind,
  profile: RegisterProfile,
  plan: readonly ReadRequest[],
  read: ReadFn,
): Promise<PollResult> {
  const requests: RequestOutcome[] = [];
  const problems: FieldProblem[] = [];
  const decoded: Record<string, FieldValue> = {};
  let abandoned = 0;
  for (const [i, request] of plan.entries()) {
    let data: number[] | boolean[];
    try {
      data = await read(request.function, request.start, request.count);
    } catch (err) {
      const failure = classify(err);
      requests.push({ request, failure });
      // A slave that did not answer one request will not answer the next either, and on
      // a shared line each further try would hold its neighbours up for another timeout.
      if (failure.failure === 'timeout' || failure.failure === 'connection') {
        abandoned = plan.length - i - 1;
        break;
      }
      continue;
    }
    requests.push({ request });
    for (const [name, d] of Object.entries(decodeReadResult(profile, request, data))) {
      if (d.ok) decoded[name] = d.value;
      else
        problems.push({
          field: name,
          error: d.error,
          detail: d.detail,
          ...(d.raw !== undefined ? { raw: d.raw } : {}),
        });
    }
  }
  return {
    answered: requests.some((r) => !r.failure),
    fields: checked(kind, decoded, problems),
    problems,
    requests,
    abandoned,
  };
}

/** The decoded fields the catalogue accepts: all at once in the common case, else one by one so each bad one costs only itself. */
function checked(
  kind: DeviceKind,
  decoded: Record<string, FieldValue>,
  problems: FieldProblem[],
): Record<string, FieldValue> {
  if (checkFields(kind, decoded).ok) return decoded;
  const fields: Record<string, FieldValue> = {};
  for (const [name, value] of Object.entries(decoded)) {
    const check = checkFields(kind, { [name]: value });
    if (check.ok) fields[name] = value;
    else problems.push({ field: name, error: check.reason, detail: check.detail });
  }
  return fields;
}
