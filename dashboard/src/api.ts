// The page talks only to the gateway's HTTP API and its server-sent-event streams.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const res = await fetch(path, {
    method: init.method ?? 'GET',
    credentials: 'same-origin',
    headers: init.body !== undefined ? { 'content-type': 'application/json' } : {},
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const type = res.headers.get('content-type') ?? '';
  const body = type.includes('json') ? await res.json() : await res.text();
  if (!res.ok)
    throw new ApiError(
      res.status,
      typeof body === 'object' && body && 'message' in body ? String(body.message) : `HTTP ${res.status}`,
    );
  return body as T;
}

/** Whether the live streams are connected: a duty screen that silently froze is the worst failure. */
const linkListeners = new Set<(up: boolean) => void>();
let linkUp = true;
function setLink(up: boolean): void {
  if (up === linkUp) return;
  linkUp = up;
  for (const l of linkListeners) l(up);
}
export function onLinkChange(listener: (up: boolean) => void): () => void {
  linkListeners.add(listener);
  return () => linkListeners.delete(listener);
}

/**
 * Calls `onEvent` for every event of an SSE stream. The browser reconnects by itself (with
 * Last-Event-ID, so nothing is missed twice); while it is away the page says so, and on
 * reconnecting `onEvent(undefined)` lets the view reload what it shows.
 */
export function stream(path: string, event: string, onEvent: (data: unknown) => void): () => void {
  const es = new EventSource(path);
  es.addEventListener(event, (e) => onEvent(JSON.parse((e as MessageEvent<string>).data)));
  es.addEventListener('error', () => setLink(false));
  es.addEventListener('open', () => {
    if (!linkUp) onEvent(undefined);
    setLink(true);
  });
  return () => es.close();
}

export interface Me {
  username: string;
  role: 'viewer' | 'operator' | 'admin';
  name: string | { zh: string; en: string };
}

export const canAct = (me: Me | null) => me !== null && me.role !== 'viewer';
