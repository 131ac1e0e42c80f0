import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { STREAM_JOBS, WORKERS_CONSUMER } from '../../server/queue/protocol.js';
import { run, tosia } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/shared.js';

// Issue 27: deploy/kubernetes renders offline (kubectl kustomize), every object validates against
// the Kubernetes API schemas (kubernetes-models, with KEDA's and the Prometheus operator's), and
// what the manifests ask of tosia (commands, flags, environment, the queue's names, the config)
// is what the built CLI has. No cluster runs here: KEDA itself and a live rollout are not tested.

const KUBECTL = process.env.TOSIA_KUBECTL ?? 'kubectl';
const kubectlMissing = (() => {
  if (spawnSync(KUBECTL, ['version', '--client'], { encoding: 'utf8' }).status === 0) return null;
  const why = `${KUBECTL} is not on PATH`;
  if (process.env.CI === 'true') throw new Error(`${why}; CI=true requires it`);
  console.warn(`skipping the Kubernetes manifest tests: ${why}`);
  return why;
})();

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec?: any; data?: Record<string, string> };

async function render(overlay: string): Promise<K8sObject[]> {
  const r = await run(KUBECTL, ['kustomize', join(REPO_ROOT, 'deploy/kubernetes/overlays', overlay)]);
  expect(r.code, r.stderr).toBe(0);
  const objects = parseAllDocuments(r.stdout).map((d) => d.toJSON() as K8sObject).filter(Boolean);
  // kustomize wraps a Secret's base64 at 70 columns; the API server's decoder skips the line
  // breaks, the schema's "byte" format does not
  for (const o of objects) if (o.kind === 'Secret' && o.data) for (const k of Object.keys(o.data)) o.data[k] = o.data[k]!.replace(/\s+/g, '');
  return objects;
}

/** The kubernetes-models class for an object's apiVersion and kind. */
async function modelOf(o: K8sObject): Promise<new (x: unknown) => { validate(): void }> {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  const path = group === 'keda.sh' ? `@kubernetes-models/keda/keda.sh/${version}/${o.kind}`
    : group === 'monitoring.coreos.com' ? `@kubernetes-models/prometheus-operator/monitoring.coreos.com/${version}/${o.kind}`
      : group === '' ? `kubernetes-models/v1/${o.kind}` : `kubernetes-models/${group}/${version}/${o.kind}`;
  const mod = await import(path) as Record<string, new (x: unknown) => { validate(): void }>;
  return mod[o.kind]!;
}

const containersOf = (d: K8sObject) => [...(d.spec.template.spec.initContainers ?? []), ...d.spec.template.spec.containers] as { name: string; image: string; args: string[]; env?: { name: string }[]; securityContext: any; resources: any }[];

describe.skipIf(kubectlMissing)('the Kubernetes manifests', () => {
  for (const overlay of ['dev', 'azure']) {
    describe(`overlay ${overlay}`, () => {
      it('renders, and every object validates against its API schema', async () => {
        const objects = await render(overlay);
        const kinds = objects.map((o) => o.kind);
        for (const k of ['Namespace', 'ConfigMap', 'Deployment', 'Service', 'Ingress', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'ScaledObject', 'NetworkPolicy', 'ServiceMonitor']) expect(kinds, k).toContain(k);
        for (const o of objects) {
          const Model = await modelOf(o);
          expect(() => new Model(o).validate(), `${o.kind}/${o.metadata.name}`).not.toThrow();
          if (o.kind !== 'Namespace') expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe('tosia');
        }
        // no secret value is committed for the cluster that matters
        if (overlay === 'azure') expect(kinds).not.toContain('Secret');
      });

      it('serve: 2+ replicas, probes, a drain shorter than the grace period, limits, non-root on a read-only root; the migration runs first', async () => {
        const objects = await render(overlay);
        const serve = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'tosia-serve')!;
        const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler')!;
        expect(Math.max(serve.spec.replicas, hpa.spec.minReplicas)).toBeGreaterThanOrEqual(overlay === 'dev' ? 1 : 2);
        expect(objects.find((o) => o.kind === 'PodDisruptionBudget')!.spec.minAvailable).toBe(1);
        const pod = serve.spec.template.spec;
        expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
        expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(30);
        const c = pod.containers[0];
        expect(c.readinessProbe.httpGet.path).toBe('/ready');
        expect(c.livenessProbe.httpGet.path).toBe('/health');
        expect(c.startupProbe.httpGet.path).toBe('/health');
        expect(c.lifecycle.preStop.exec.command).toEqual(['sleep', '5']);
        expect(pod.initContainers[0].args.slice(0, 2)).toEqual(['db', 'migrate']);
        for (const d of objects.filter((o) => o.kind === 'Deployment' && o.metadata.name.startsWith('tosia-'))) {
          for (const k of containersOf(d)) {
            expect(k.securityContext, `${d.metadata.name}/${k.name}`).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
            expect(k.resources.requests && k.resources.limits, `${d.metadata.name}/${k.name}`).toBeTruthy();
          }
        }
      });

      it("KEDA's trigger names the stream and consumer tosia worker takes jobs from", async () => {
        const objects = await render(overlay);
        const so = objects.find((o) => o.kind === 'ScaledObject')!;
        expect(so.spec.scaleTargetRef.name).toBe('tosia-worker');
        const t = so.spec.triggers[0];
        expect(t.type).toBe('nats-jetstream');
        expect(t.metadata).toMatchObject({ stream: STREAM_JOBS, consumer: WORKERS_CONSUMER, account: '$G' });
        expect(Number(t.metadata.lagThreshold)).toBeGreaterThan(0);
        expect(so.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
        expect(so.spec.maxReplicaCount).toBeGreaterThan(so.spec.minReplicaCount);
      });

      it('every tosia command, flag and environment variable in them is one the built CLI has; the config validates', async () => {
        const objects = await render(overlay);
        for (const d of objects.filter((o) => o.kind === 'Deployment' && o.metadata.name.startsWith('tosia-'))) {
          for (const k of containersOf(d)) {
            const words = k.args.findIndex((a) => a.startsWith('-'));
            const cmd = k.args.slice(0, words);
            const help = await tosia([...cmd, '--help']);
            expect(help.code, `${d.metadata.name}/${k.name}: tosia ${cmd.join(' ')}`).toBe(0);
            for (const a of k.args.slice(words).filter((x) => x.startsWith('--'))) {
              expect(help.stdout, `${d.metadata.name}/${k.name}: ${a}`).toContain(a.split('=')[0]!);
            }
            // each variable is either put into an argument or read by tosia itself (its help names it)
            const serveHelp = (await tosia(['serve', '--help'])).stdout;
            for (const e of k.env ?? []) {
              const used = k.args.some((a) => a.includes(`$(${e.name})`)) || serveHelp.includes(e.name);
              expect(used, `${d.metadata.name}/${k.name}: env ${e.name}`).toBe(true);
            }
          }
        }
        const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('tosia-config'))!;
        const file = join(mkdtempSync(join(tmpdir(), 'tosia-k8s-')), 'config.yml');
        writeFileSync(file, config.data!['config.yml']!);
        const v = await tosia(['config', '--validate', file]);
        expect(v.code, v.stderr).toBe(0);
        // the endpoints every tosia container reads are set
        const endpoints = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('tosia-endpoints'))!;
        expect(endpoints.data).toMatchObject({ 'audio-store': expect.stringMatching(/^azblob:\/\//), 'queue-url': expect.stringMatching(/^nats:\/\//) });
      });
    });
  }
});
