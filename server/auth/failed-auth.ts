/**
 * Failed authentications counted per client address in a sliding minute: past the limit, the
 * address is answered 429 before any key is looked up, so guessing keys (or flooding the key
 * lookup) costs the guesser, not the database. The table is bounded: the oldest addresses go
 * first when it is full.
 */
export class FailedAuth {
  private readonly seen = new Map<string, number[]>();
  private readonly sweep: NodeJS.Timeout;
  private readonly perMinute: number;

  constructor(o: { perMinute: number; maxAddresses?: number }, private readonly maxAddresses = o.maxAddresses ?? 100_000) {
    this.perMinute = o.perMinute;
    this.sweep = setInterval(() => this.forget(Date.now() - 60_000), 60_000);
    this.sweep.unref();
  }

  /** Seconds this address must wait, or 0. */
  blocked(addr: string): number {
    const times = this.seen.get(addr);
    if (!times) return 0;
    const now = Date.now();
    while (times.length > 0 && times[0]! <= now - 60_000) times.shift();
    if (times.length < this.perMinute) return 0;
    return Math.max(1, Math.ceil((times[0]! + 60_000 - now) / 1000));
  }

  failed(addr: string): void {
    let times = this.seen.get(addr);
    if (!times) {
      if (this.seen.size >= this.maxAddresses) this.seen.delete(this.seen.keys().next().value!);
      this.seen.set(addr, (times = []));
    }
    times.push(Date.now());
    if (times.length > this.perMinute) times.shift();
  }

  private forget(before: number): void {
    for (const [addr, times] of this.seen) if ((times.at(-1) ?? 0) <= before) this.seen.delete(addr);
  }

  close(): void {
    clearInterval(this.sweep);
  }
}
