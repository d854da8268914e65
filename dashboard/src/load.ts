import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from './api.js';
import { every } from './clock.js';

export interface Loaded<T> {
  /** The last answer for the address asked now; null before it comes, after a failed read, and while nothing is asked. */
  data: T | null;
  /** Why the last read of that address failed. */
  error: string | null;
  /** Reads it again now (after a change made on the page). */
  reload: () => void;
}

/**
 * What GET `path` answers, read again every `everyMs` if given; `path` null asks nothing.
 *
 * Only answers about the address asked now are drawn, and only in the order they were asked:
 * the page moves on while a read is on its way (another drill's report, another device), and
 * a late answer about the one left behind would put its figures and buttons under the name of
 * the one on screen. The one way the dashboard loads by address, so that guard is not left to
 * each page.
 */
export function useLoad<T>(path: string | null, everyMs?: number): Loaded<T> {
  const [state, setState] = useState<{ path: string; data: T | null; error: string | null } | null>(null);
  const read = useRef<() => void>(() => undefined);
  useEffect(() => {
    if (path === null) return;
    let current = true;
    let asked = 0;
    let drawn = 0;
    const get = () => {
      const n = ++asked;
      const take = (data: T | null, error: string | null) => {
        if (!current || n < drawn) return;
        drawn = n;
        setState({ path, data, error });
      };
      void api<T>(path).then(
        (data) => take(data, null),
        (err: Error) => take(null, err.message),
      );
    };
    read.current = get;
    get();
    const stop = everyMs ? every(everyMs, get) : undefined;
    return () => {
      current = false;
      read.current = () => undefined;
      stop?.();
    };
  }, [path, everyMs]);
  const mine = state !== null && state.path === path;
  return { data: mine ? state.data : null, error: mine ? state.error : null, reload: () => read.current() };
}
