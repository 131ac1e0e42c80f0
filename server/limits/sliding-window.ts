/**
 * Requests counted per key (an API key's hash, a client address) in a sliding window: past the
 * limit, the key waits until its oldest request leaves the window. The table is bounded: the
 * oldest keys go first when it is full, and idle keys are swept every window.
 */
export class SlidingWindow {
  private readonly seen = new Map<string, number[]>();
  private readonly sweep: NodeJS.Timeout;
  readonly limit: number;
  readonly windowMs: number;
  private readonly maxKeys: number;

  constructor(o: { limit: number; windowMs?: number; maxKeys?: number }) {
    this.limit = o.limit;
    this.windowMs = o.windowMs ?? 60_000;
    this.maxKeys = o.maxKeys ?? 100_000;
    this.sweep = setInterval(() => this.forget(Date.now() - this.windowMs), this.windowMs);
    this.sweep.unref();
  }

  /** Requests `key` has left in the window, and seconds until the next one frees up (0 when none is counted). */
  state(key: string): { remaining: number; resetS: number } {
    const times = this.seen.get(key);
    if (!times) return { remaining: this.limit, resetS: 0 };
    const now = Date.now();
    while (times.length > 0 && times[0]! <= now - this.windowMs) times.shift();
    return { remaining: Math.max(0, this.limit - times.length), resetS: times.length ? Math.max(1, Math.ceil((times[0]! + this.windowMs - now) / 1000)) : 0 };
  }

  /** Seconds `key` must wait, or 0. */
  wait(key: string): number {
    const s = this.state(key);
    return s.remaining > 0 ? 0 : s.resetS;
  }

  add(key: string): void {
    let times = this.seen.get(key);
    if (!times) {
      if (this.seen.size >= this.maxKeys) this.seen.delete(this.seen.keys().next().value!);
      this.seen.set(key, (times = []));
    }
    times.push(Date.now());
    if (times.length > this.limit) times.shift();
  }

  private forget(before: number): void {
    for (const [key, times] of this.seen) if ((times.at(-1) ?? 0) <= before) this.seen.delete(key);
  }

  close(): void {
    clearInterval(this.sweep);
  }
}
