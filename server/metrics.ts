import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Result } from '../runtime/index.js';

/**
 * Prometheus metrics, on a registry of this server's own (two servers in one process, as in
 * tests, never share counters). Record counts are read from the database at scrape time, so
 * every replica reports the same truth.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly latency: Histogram<'route' | 'method' | 'status'>;
  readonly stages: Histogram<'stage'>;

  constructor(sources: { depth: () => number; busy: () => number; records: () => Promise<{ status: string; label: string | null; n: number }[]> }) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'tosia_' });
    this.requests = new Counter({ name: 'tosia_http_requests_total', help: 'HTTP requests by route, method and status', labelNames: ['route', 'method', 'status'], registers });
    this.latency = new Histogram({
      name: 'tosia_http_request_duration_seconds', help: 'HTTP request latency by route, method and status', labelNames: ['route', 'method', 'status'], registers,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    });
    this.stages = new Histogram({ name: 'tosia_pipeline_stage_duration_seconds', help: 'Pipeline stage durations of finished recordings', labelNames: ['stage'], registers, buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10] });
    new Gauge({ name: 'tosia_queue_depth', help: 'Recordings waiting for a worker', registers, collect() { this.set(sources.depth()); } });
    new Gauge({ name: 'tosia_busy_workers', help: 'Recordings the worker pool is running', registers, collect() { this.set(sources.busy()); } });
    new Gauge({
      name: 'tosia_diagnoses', help: 'Diagnosis records by status and label', labelNames: ['status', 'label'], registers,
      async collect() {
        this.reset();
        for (const r of await sources.records()) this.set({ status: r.status, label: r.label ?? '' }, r.n);
      },
    });
  }

  observeResult(result: Result): void {
    for (const [stage, ms] of Object.entries(result.timings_ms)) this.stages.observe({ stage }, ms / 1000);
  }
}
