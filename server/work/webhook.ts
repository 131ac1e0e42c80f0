import { createHmac } from 'node:crypto';
import type { RecordStore, Row } from '../db/record-store.js';

/**
 * Callbacks: when a record with a callback_url finishes, its JSON is POSTed there, signed with
 * HMAC-SHA256 over `<timestamp>.<body>` (header `X-Tosia-Signature: t=<unix s>,v1=<hex>`), so
 * the receiver can check both who sent it and that it is not a replay. A delivery that fails
 * (no 2xx, a timeout, a refused connection) is tried again with exponential backoff, up to
 * `maxTries` tries; every try is recorded on the record.
 */

export interface WebhookOptions {
  secret: string;
  /** First retry delay; doubles each time. */
  backoffMs?: number;
  maxTries?: number;
  timeoutMs?: number;
}

export function signature(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export class Webhooks {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly records: RecordStore,
    private readonly render: (row: Row) => Promise<unknown>,
    private readonly options: WebhookOptions,
    private readonly now: () => Date,
    private readonly log: (msg: string, extra: Record<string, unknown>) => void,
  ) {}

  /** Start delivering a finished record's callback (first try now). */
  deliver(row: Row, tries = 0): void {
    if (!row.callback_url || this.stopped) return;
    const p = this.attempt(row.id, tries).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  private async attempt(id: string, done: number): Promise<void> {
    const row = await this.records.get(id);
    if (!row || !row.callback_url) return;
    const tries = done + 1;
    const body = JSON.stringify(await this.render(row));
    const ts = Math.floor(this.now().getTime() / 1000);
    let error: string | null = null;
    try {
      const res = await fetch(row.callback_url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-tosia-signature': signature(this.options.secret, ts, body), 'x-tosia-delivery': `${id}/${tries}`, 'user-agent': 'tosia-webhook' },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 200 || res.status >= 300) error = `the receiver answered ${res.status}`;
    } catch (e) {
      error = `delivery failed: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`;
    }
    const at = this.now().toISOString();
    const max = this.options.maxTries ?? 5;
    if (error === null) {
      await this.records.setWebhook(id, 'delivered', tries, null, at);
      return;
    }
    if (tries >= max) {
      await this.records.setWebhook(id, 'failed', tries, `gave up after ${tries} tries: ${error}`, at);
      this.log('webhook gave up', { id, tries, error });
      return;
    }
    await this.records.setWebhook(id, 'pending', tries, error, at);
    if (this.stopped) return;
    const delay = (this.options.backoffMs ?? 1000) * 2 ** (tries - 1);
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.deliver(row, tries);
    }, delay);
    this.timers.add(t);
  }

  /** Resume the deliveries a stopped server left pending. */
  async resume(): Promise<void> {
    for (const row of await this.records.pendingWebhooks()) this.deliver(row, row.webhook_attempts);
  }

  /** Stop retrying (pending ones resume at the next start) and let the tries under way end. */
  async close(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.inFlight]);
  }
}
