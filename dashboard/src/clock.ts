// The page's one clock: the only module of the browser code that reads the time or sets a
// timer. Times shown are the gateway's (the demo runs on a simulated clock), so the page
// reads "now" through the offset the gateway last told it, and views refresh through every().

/** The gateway's clock minus the browser's. */
let skew = 0;

/** What the gateway said its time was (GET /api/site `now`), taken as of this moment. */
export function setServerNow(serverNow: number): void {
  skew = serverNow - Date.now();
}

/** The gateway's time now, epoch ms. */
export function serverNow(): number {
  return Date.now() + skew;
}

/** Calls `fn` every `ms` until the returned stop function is called (a view effect's cleanup). */
export function every(ms: number, fn: () => void): () => void {
  const id = setInterval(fn, ms);
  return () => clearInterval(id);
}
