import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { RecordStore, Row } from '../db/record-store.js';
import { CallbackGuard } from './callback-guard.js';

/**
 * Callbacks: when a record with a callback_url finishes, its JSON is POSTed there, signed with
 * HMAC-SHA256 over `<timestamp>.<body>` (header `X-Tosia-Signature: t=<unix s>,v1=<hex>`), so
 * the receiver can check both who sent it and that it is not a replay. A delivery that fails
 * (no 2xx, a timeout, a refused connection) is tried again with exponential backoff, up to
 * `maxTries` tries; every try is recorded on the record.
 *
 * Delivery is at least once: a receiver deduplicates on `X-Tosia-Delivery` (`<record id>/a<n>`),
 * which is the same for every try of one result, across restarts, and new only when the record
 * is run again. Callbacks go only where the CallbackGuard lets them (public addresses, checked
 * when the connection is made), follow no redirect, and the error kept on the record says only
 * whether the receiver answered, and with what status.
 */

export interface WebhookOptions {
  secret: string;
  /** Where callbacks may go; default: public addresses only. */
  guard?: CallbackGuard;
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
    // a failure to record the try (the database down) leaves it pending for the next start: it
    // is logged, never an unhandled rejection that would end the process
    const p = this.attempt(row.id, tries)
      .catch((e) => this.log('webhook delivery could not be recorded', { id: row.id, error: (e as Error).message }))
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  private async attempt(id: string, done: number): Promise<void> {
    const row = await this.records.get(id);
    if (!row || !row.callback_url) return;
    const tries = done + 1;
    const body = JSON.stringify(await this.render(row));
    const ts = Math.floor(this.now().getTime() / 1000);
    let error: string | null = null;
    let final = false;
    const guard = this.options.guard ?? DEFAULT_GUARD;
    const refused = guard.refuse(row.callback_url);
    if (refused) {
      // a URL stored before the rule, or a host the operator no longer allows: never sent
      error = `not sent: callback_url ${refused}`;
      final = true;
    } else {
      try {
        const status = await post(new URL(row.callback_url), body, {
          'content-type': 'application/json', 'x-tosia-signature': signature(this.options.secret, ts, body), 'x-tosia-delivery': `${id}/a${row.attempts}`, 'user-agent': 'tosia-webhook',
        }, this.options.timeoutMs ?? 10_000, guard);
        if (status < 200 || status >= 300) error = `the receiver answered HTTP ${status}`;
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        // what failed is logged; the record (which read keys see) says only that nothing answered
        this.log('webhook delivery failed', { id, error: err.message });
        error = err.code === 'E_CALLBACK_ADDRESS' ? 'not sent: the callback host does not resolve to a public address' : 'no answer: the connection failed or timed out';
        final = err.code === 'E_CALLBACK_ADDRESS';
      }
    }
    const at = this.now().toISOString();
    const max = final ? tries : this.options.maxTries ?? 5;
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

const DEFAULT_GUARD = new CallbackGuard();

/** POST a body and resolve with the status: no redirect is followed, the name is resolved (and checked) when the socket connects. */
function post(url: URL, body: string, headers: Record<string, string>, timeoutMs: number, guard: CallbackGuard): Promise<number> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, lookup: guard.lookup(url.hostname) as never, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
