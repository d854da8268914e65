import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileDurably } from '../files/durable-file.js';

// Photos from the scene (the engineer's phone at the flooded basement or the lift), kept under
// <data_dir>/incidents/photos/<incident>/ — written durably before the incident's timeline
// names them, bounded in size and in number per incident. Only images a browser shows are
// taken, recognised by their first bytes, not by what the sender claims.

export const PHOTO_MAX_BYTES = 8 * 1024 * 1024;
export const PHOTOS_PER_INCIDENT = 50;

const KINDS: { mime: string; ext: string; magic: (b: Uint8Array) => boolean }[] = [
  { mime: 'image/jpeg', ext: 'jpg', magic: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  {
    mime: 'image/png',
    ext: 'png',
    magic: (b) => [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((x, i) => b[i] === x),
  },
  {
    mime: 'image/webp',
    ext: 'webp',
    magic: (b) =>
      String.fromCharCode(...b.subarray(0, 4)) === 'RIFF' && String.fromCharCode(...b.subarray(8, 12)) === 'WEBP',
  },
];

/** The image kind of these bytes, or undefined when they are no photo we keep. */
export function photoKind(bytes: Uint8Array): { mime: string; ext: string } | undefined {
  const k = KINDS.find((x) => bytes.length >= 12 && x.magic(bytes));
  return k && { mime: k.mime, ext: k.ext };
}

const NAME = /^(\d{1,3})\.(jpg|png|webp)$/;

export class PhotoStore {
  constructor(private readonly dir: string) {}

  /** Keeps the photo on disk; resolves with its name once it is there. */
  async save(incidentId: string, bytes: Uint8Array, ext: string): Promise<string> {
    const dir = join(this.dir, incidentId);
    await mkdir(dir, { recursive: true });
    const taken = (await readdir(dir)).filter((f) => NAME.test(f)).length;
    if (taken >= PHOTOS_PER_INCIDENT)
      throw new PhotoLimitError(`incident ${incidentId} already has ${PHOTOS_PER_INCIDENT} photos`);
    const name = `${taken + 1}.${ext}`;
    await writeFileDurably(join(dir, name), bytes);
    return name;
  }

  /** The photo's bytes and type, or undefined for a name that is not one of its photos. */
  async read(incidentId: string, name: string): Promise<{ bytes: Buffer; mime: string } | undefined> {
    const m = NAME.exec(name);
    if (!m) return undefined;
    try {
      const bytes = await readFile(join(this.dir, incidentId, name));
      return { bytes, mime: KINDS.find((k) => k.ext === m[2])!.mime };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }
}

export class PhotoLimitError extends Error {}
