/**
 * What the Dispatcher admits: the bound on records waiting (places are reserved
 * while an upload is being stored, so uploads arriving together cannot overfill it), the switch
 * that stops taking records, and requests waiting for a record to finish.
 */
export abstract class Admission {
  private reserved = 0;
  protected accepting = true;
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(private readonly maxQueue: number) {}

  /** Records waiting to run. */
  abstract get depth(): number;

  get full(): boolean {
    return this.depth + this.reserved >= this.maxQueue;
  }

  /** Hold a place for a record about to be stored; false when full. release() gives it back once it is queued or dropped. */
  reserve(): boolean {
    if (this.full) return false;
    this.reserved++;
    return true;
  }

  release(): void {
    this.reserved = Math.max(0, this.reserved - 1);
  }

  get isAccepting(): boolean {
    return this.accepting;
  }

  /**
   * Resolves at wake(id), after `ms`, or when `finished` (asked every second, when given) says
   * so, whichever is first.
   */
  protected wait(id: string, ms: number, finished?: () => Promise<boolean>): Promise<void> {
    return new Promise((resolve) => {
      const set = this.waiters.get(id) ?? new Set();
      this.waiters.set(id, set);
      const done = () => {
        clearTimeout(t);
        if (look) clearInterval(look);
        set.delete(done);
        if (set.size === 0) this.waiters.delete(id);
        resolve();
      };
      const t = setTimeout(done, ms);
      const look = finished ? setInterval(() => void finished().then((yes) => yes && done(), () => undefined), 1000) : null;
      set.add(done);
    });
  }

  protected wake(id: string): void {
    for (const w of [...(this.waiters.get(id) ?? [])]) w();
  }

  /** Wake every waiting request (a drain: they get their 202 now). */
  protected wakeAll(): void {
    for (const id of [...this.waiters.keys()]) this.wake(id);
  }
}
