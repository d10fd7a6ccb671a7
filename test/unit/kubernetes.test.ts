import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { DEPLOYED_WORKER_NODE_OPTIONS } from '../../bench/deployed';
import { loadConfig } from '../../src/config';
import { parseWorkerQueues } from '../../src/worker/queues';

// deploy/kubernetes (kustomize), checked without a cluster: what the resources say and how they fit.
const dir = path.resolve(__dirname, '../../deploy/kubernetes');

interface Kustomization {
  resources: string[];
  images: { name: string; newName?: string; newTag?: string; digest?: string }[];
  namespace?: string;
}
// Manifests are checked field by field below; `any` keeps the walk short (a bad path fails the assertion).
/* eslint-disable @typescript-eslint/no-explicit-any */
interface Doc {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: any;
  data?: any;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

const kustomization = parseAllDocuments(
  readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8'),
)[0]!.toJSON() as Kustomization;
const docs: Doc[] = kustomization.resources.flatMap((f) =>
  parseAllDocuments(readFileSync(path.join(dir, f), 'utf8')).map((d) => d.toJSON() as Doc),
);
const one = (kind: string) => {
  const found = docs.filter((d) => d.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0]!;
};

const named = (kind: string, name: string) => {
  const found = docs.find((d) => d.kind === kind && d.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
};

const deployment = named('Deployment', 'sevsync-worker');
const importDeployment = named('Deployment', 'sevsync-import-worker');
const job = one('Job');
const config = one('ConfigMap');
const pod = deployment.spec.template.spec;
const worker = pod.containers[0];

describe('deploy/kubernetes', () => {
  it('has the two worker Deployments, a migrations Job, their PodDisruptionBudgets, a NetworkPolicy, and no Secret', () => {
    expect(docs.map((d) => d.kind).sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'Deployment',
      'Job',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'PodDisruptionBudget',
    ]);
    // Secrets by reference only: nothing secret is ever committed here.
    expect(docs.some((d) => d.kind === 'Secret')).toBe(false);
    expect(job.spec.template.spec.containers[0].args).toEqual(['migrate']);
    expect(worker.args).toEqual(['worker', '--queues', 'sync,webhooks']);
    expect(deployment.spec.replicas).toBeGreaterThan(1);
  });

  it('runs the imports in a Deployment of their own, otherwise the same as the sync worker', () => {
    const importWorker = importDeployment.spec.template.spec.containers[0];
    expect(importWorker.args).toEqual(['worker', '--queues', 'imports']);
    const labels = { 'app.kubernetes.io/name': 'sevsync-import-worker' };
    expect(importDeployment.metadata.labels).toEqual(labels);
    expect(importDeployment.spec.selector.matchLabels).toEqual(labels);
    expect(importDeployment.spec.template.metadata.labels).toEqual(labels);
    // Everything else (image, config, probes, limits, grace, security, rollout) is the sync worker's.
    const rest = (d: Doc) => {
      const spec = structuredClone(d.spec);
      delete spec.selector;
      delete spec.template.metadata.labels;
      delete spec.template.spec.containers[0].args;
      return spec;
    };
    expect(rest(importDeployment)).toEqual(rest(deployment));
    // Between them, every queue is served, each by one Deployment.
    const queues = [worker, importWorker].flatMap((c: { args: string[] }) => {
      const parsed = parseWorkerQueues(c.args[2] ?? '');
      return parsed.ok ? parsed.queues : [];
    });
    expect(queues.sort()).toEqual(['imports', 'sync', 'webhooks']);
  });

  it('pins the image', () => {
    const img = kustomization.images.find((i) => i.name === 'sevsync');
    expect(img?.newTag ?? img?.digest).toMatch(/^(\d+\.\d+\.\d+|sha256:[0-9a-f]{64})$/);
    for (const c of [worker, job.spec.template.spec.containers[0]]) expect(c.image).toBe('sevsync');
  });

  it('probes the port the worker really listens on', () => {
    const port = Number(config.data.SEVSYNC_WORKER_HTTP_PORT);
    expect(config.data.SEVSYNC_WORKER_HTTP_HOST).toBe('0.0.0.0');
    const named = worker.ports.find((p: { name: string }) => p.name === 'http');
    expect(named.containerPort).toBe(port);
    expect(worker.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(worker.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(worker.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(deployment.spec.template.metadata.annotations['prometheus.io/port']).toBe(String(port));
  });

  it('lets the current page finish: grace period above shutdownGraceTime', () => {
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(
      Number(config.data.SEVSYNC_SHUTDOWN_GRACE_SECONDS) + 10,
    );
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  it('runs non-root, read-only, without privileges, with a memory limit the heap fits in', () => {
    for (const spec of [pod, job.spec.template.spec]) {
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      expect(spec.automountServiceAccountToken).toBe(false);
      const c = spec.containers[0];
      expect(c.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(c.resources.limits.memory).toMatch(/^\d+Mi$/);
      expect(c.resources.requests.memory).toMatch(/^\d+Mi$/);
    }
    const limitMi = Number(String(worker.resources.limits.memory).replace('Mi', ''));
    const heapMb = Number(/--max-old-space-size=(\d+)/.exec(config.data.NODE_OPTIONS)?.[1]);
    expect(heapMb).toBeLessThan(limitMi * 0.8);
    // The bench measures the worker with these flags: what it reports is what is deployed.
    expect(config.data.NODE_OPTIONS).toBe(DEPLOYED_WORKER_NODE_OPTIONS);
    const compose = parseAllDocuments(
      readFileSync(path.join(__dirname, '../../docker-compose.yml'), 'utf8'),
    )[0]?.toJS();
    expect(compose.services.worker.environment.NODE_OPTIONS).toBe(DEPLOYED_WORKER_NODE_OPTIONS);
  });

  it('takes the database URL and the key from Secrets by reference', () => {
    const db = worker.env.find((e: { name: string }) => e.name === 'DATABASE_URL');
    expect(db.valueFrom.secretKeyRef).toEqual({ name: 'sevsync-database', key: 'url' });
    const mount = worker.volumeMounts.find((m: { name: string }) => m.name === 'secret-key');
    const volume = pod.volumes.find((v: { name: string }) => v.name === 'secret-key');
    expect(volume.secret.secretName).toBe('sevsync-secret-key');
    expect(`${mount.mountPath}/${volume.secret.items[0].path}`).toBe(config.data.SEVSYNC_SECRET_KEY_FILE);
  });

  it('selects the worker pods in the PDBs and the NetworkPolicy, and allows only the egress the worker needs', () => {
    const names: string[] = [];
    for (const d of [deployment, importDeployment]) {
      const labels = d.spec.template.metadata.labels;
      expect(d.spec.selector.matchLabels).toEqual(labels);
      expect(named('PodDisruptionBudget', d.metadata.name).spec.selector.matchLabels).toEqual(labels);
      names.push(labels['app.kubernetes.io/name']);
    }
    const np = one('NetworkPolicy').spec;
    expect(np.podSelector.matchExpressions).toEqual([
      { key: 'app.kubernetes.io/name', operator: 'In', values: names },
    ]);
    expect(np.policyTypes).toEqual(['Ingress', 'Egress']);
    const egressPorts = np.egress.flatMap((e: { ports: { port: number }[] }) => e.ports.map((p) => p.port));
    expect(new Set(egressPorts)).toEqual(new Set([53, 7233, 5432, 443]));
    expect(np.ingress.flatMap((i: { ports: { port: number }[] }) => i.ports.map((p) => p.port))).toEqual([
      Number(config.data.SEVSYNC_WORKER_HTTP_PORT),
    ]);
  });

  it("gives the worker an environment that sevsync's config accepts", () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'sevsync-k8s-'));
    const keyFile = path.join(tmp, 'key');
    writeFileSync(keyFile, Buffer.alloc(32, 2).toString('base64'));
    const env = {
      ...config.data,
      DATABASE_URL: 'postgres://sevsync:pw@postgres.postgres.svc:5432/sevsync',
      SEVSYNC_SECRET_KEY_FILE: keyFile,
    };
    const c = loadConfig(env);
    expect(c.secretKey?.length).toBe(32);
    expect(c.temporalAddress).toBe('temporal-frontend.temporal.svc.cluster.local:7233');
    expect(c.ops).toMatchObject({ workerHttpPort: 9464, workerHttpHost: '0.0.0.0', logFormat: 'json' });
  });
});
