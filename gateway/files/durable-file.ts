import { open, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

// A file written so that a reader never sees half of it and a crash right after the promise
// resolves does not lose it: written aside and flushed, renamed over (atomic within a
// directory), and the directory entry flushed too. What is announced after this is kept.

export async function writeFileDurably(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.tmp`;
  await writeFile(tmp, data, { flush: true });
  await rename(tmp, file);
  const dir = await open(dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
