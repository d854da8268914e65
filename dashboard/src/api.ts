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
  if (!res.ok) throw new ApiError(res.status, typeof body === 'object' && body && 'message' in body ? String(body.message) : `HTTP ${res.status}`);
  return body as T;
}

/** Calls `onEvent` for every event of an SSE stream; the browser reconnects by itself (Last-Event-ID). */
export function stream(path: string, event: string, onEvent: (data: unknown) => void): () => void {
  const es = new EventSource(path);
  es.addEventListener(event, (e) => onEvent(JSON.parse((e as MessageEvent<string>).data)));
  return () => es.close();
}

export interface Me {
  username: string;
  role: 'viewer' | 'operator' | 'admin';
  name: string | { zh: string; en: string };
}

export const canAct = (me: Me | null) => me !== null && me.role !== 'viewer';
