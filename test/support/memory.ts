import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// A full collection before each heap reading: what stays is what the gateway keeps, not
// garbage that was not collected yet (RSS alone mostly shows V8 keeping its grown heap).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** This thread's heap in use after two full collections, bytes. */
export function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
