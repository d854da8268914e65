// A fixed piece of single-core work (the gateway's kind: JSON in and out of a reading, some
// arithmetic), timed at the start of a bench run. The machines behind the same name differ
// from day to day (2026-11-30 ran 2.5–3× slower than 2026-11-23 on unchanged code), so every
// result carries this figure: compare runs by their ratio to it, not by absolute numbers.

const PAYLOAD = JSON.stringify({
  ts: 1_796_000_000_000,
  total_m3: 1234.567,
  flow_m3h: 0.42,
  leak: false,
  reverse: false,
  error_code: 0,
});

/** Rounds of the fixed work per second, best of three half-second tries. */
export function cpuReference(): number {
  let best = 0;
  for (let attempt = 0; attempt < 3; attempt++) {
    const started = performance.now();
    let rounds = 0;
    let sink = 0;
    while (performance.now() - started < 500) {
      for (let i = 0; i < 1000; i++) {
        const r = JSON.parse(PAYLOAD) as { total_m3: number; flow_m3h: number };
        r.total_m3 += i * 0.001;
        sink += JSON.stringify(r).length + Math.sqrt(r.total_m3 * r.flow_m3h);
      }
      rounds += 1000;
    }
    if (sink < 0) throw new Error('unreachable: keeps the work from being optimised away');
    best = Math.max(best, rounds / ((performance.now() - started) / 1000));
  }
  return Math.round(best);
}
