import { type Job, type JobOutcome, type ModelIdentity, type Pool } from '../../runtime/index.js';

/**
 * Several served models on this machine: a pool of worker threads per model, behind the one
 * Pool the dispatcher runs records on. A job goes to its model's pool (job.model.name); the
 * capacity is the sum, so a burst for one model queues in that model's threads.
 */
export class ModelPools implements Pool {
  readonly capacity: number;

  constructor(private readonly pools: ReadonlyMap<string, Pool>, private readonly defaultName: () => string) {
    this.capacity = [...pools.values()].reduce((n, p) => n + p.capacity, 0);
  }

  /** Every model loads; the default's identity is the one reported. */
  async start(): Promise<ModelIdentity | null> {
    const ids = await Promise.all([...this.pools].map(async ([name, p]) => [name, await p.start()] as const));
    return new Map(ids).get(this.defaultName()) ?? null;
  }

  /** A job for a model not served here fails alone (its record says so); the pool goes on. */
  async run(job: Job, hooks?: { submitted?(): void }): Promise<JobOutcome> {
    const name = job.model?.name ?? this.defaultName();
    const pool = this.pools.get(name);
    if (!pool) {
      hooks?.submitted?.();
      return { ok: false, error: { code: 'E_MODEL', stage: 'model', message: `the model ${JSON.stringify(name)} is not served here (serving ${[...this.pools.keys()].join(', ')}); serve it with --model ${name}=PATH and retry the record` } };
    }
    return pool.run(job, hooks);
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
  }
}
