import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config';
import { parseWorkerQueues } from '../../src/worker/queues';

// No Docker engine or compose plugin on the CI machine: parse the file and check what can be checked
// without one (a compose stack that works on the second start too).
interface Healthcheck {
  test: string[];
  interval?: string;
  retries?: number;
}
interface Service {
  image?: string;
  build?: string;
  command?: string[] | string;
  entrypoint?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number; resources?: { limits?: { memory?: string } } };
  ports?: string[];
  expose?: string[];
  healthcheck?: Healthcheck;
  restart?: string;
  secrets?: string[];
  init?: boolean;
  stop_grace_period?: string;
}

const root = path.resolve(__dirname, '../..');
const file = readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
const compose = parse(file, { merge: true }) as {
  services: Record<string, Service>;
  secrets: Record<string, { file: string }>;
};
const services = compose.services;
const svc = (name: string): Service => {
  const s = services[name];
  if (!s) throw new Error(`no service ${name}`);
  return s;
};

/** Jobs run to completion; everything else must stay up and say whether it is healthy. */
const JOBS = ['temporal-schema', 'temporal-namespace', 'migrate'];

/** Resolves ${VAR}, ${VAR:-default} and ${VAR:?message} as compose would, from `vars`. */
function resolve(value: string, vars: Record<string, string>): string {
  return value.replace(
    /\$\{(\w+)(?::-([^}]*)|:\?([^}]*))?\}/g,
    (_m, name: string, def?: string, req?: string) => {
      const v = vars[name];
      if (v !== undefined && v !== '') return v;
      if (req !== undefined) throw new Error(`compose would refuse: ${name}: ${req}`);
      return def ?? '';
    },
  );
}

const seconds = (d: string) => {
  const m = /^(\d+)(s|m)$/.exec(d);
  if (!m) throw new Error(`not a duration: ${d}`);
  return Number(m[1]) * (m[2] === 'm' ? 60 : 1);
};

describe('docker-compose.yml', () => {
  it('has PostgreSQL, the Temporal schema job, server, namespace job, UI, migrations and scalable workers', () => {
    expect(Object.keys(services).sort()).toEqual([
      'import-worker',
      'migrate',
      'postgres',
      'temporal',
      'temporal-namespace',
      'temporal-schema',
      'temporal-ui',
      'worker',
    ]);
    // The deprecated auto-setup image is gone: admin-tools sets the schema up, the plain server runs.
    expect(file).not.toContain('auto-setup');
    expect(svc('temporal').image).toMatch(/^temporalio\/server:/);
    expect(svc('temporal-schema').image).toMatch(/^temporalio\/admin-tools:/);
    expect(String(svc('temporal-schema').command)).toContain('update-schema');
    expect(svc('temporal').environment?.DB).toBe('postgres12');
    expect(svc('worker').build).toBe('.');
    expect(svc('worker').command).toEqual(['worker', '--queues', 'sync,webhooks']);
    expect(svc('migrate').command).toEqual(['migrate']);
    expect(svc('worker').deploy?.replicas).toBeGreaterThan(1);
  });

  it('runs the imports in a worker service of their own, otherwise the same as the sync worker', () => {
    expect(svc('import-worker').command).toEqual(['worker', '--queues', 'imports']);
    const { command: _sync, ...syncWorker } = svc('worker');
    const { command: _imports, ...importWorker } = svc('import-worker');
    expect(importWorker).toEqual(syncWorker);
    // Between them, every queue is served, each by one service.
    const queues = [svc('worker'), svc('import-worker')].flatMap((s) => {
      const parsed = parseWorkerQueues(String((s.command as string[])[2]));
      return parsed.ok ? parsed.queues : [];
    });
    expect(queues.sort()).toEqual(['imports', 'sync', 'webhooks']);
  });

  it('pins every image (no floating or missing tags)', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.build) continue;
      expect(s.image, name).toMatch(/^[\w./-]+:\d+(\.\d+)+[\w.-]*$/);
    }
  });

  it('publishes no port on all interfaces: the UI on loopback, gRPC not at all', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const p of s.ports ?? []) expect(p, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    }
    expect(svc('temporal').ports).toBeUndefined();
    expect(svc('temporal-ui').ports).toEqual(['127.0.0.1:8233:8080']);
  });

  it('orders the start: each service waits for what it needs, the worker for the namespace', () => {
    expect(svc('temporal-schema').depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(svc('temporal').depends_on).toEqual({
      'temporal-schema': { condition: 'service_completed_successfully' },
    });
    expect(svc('temporal-namespace').depends_on).toEqual({ temporal: { condition: 'service_healthy' } });
    expect(svc('migrate').depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    for (const name of ['worker', 'import-worker'])
      expect(svc(name).depends_on, name).toEqual({
        migrate: { condition: 'service_completed_successfully' },
        'temporal-namespace': { condition: 'service_completed_successfully' },
      });
    // Every dependency names a service that exists, and waits on a health check it really has.
    for (const [name, s] of Object.entries(services)) {
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        expect(Object.keys(services), `${name} -> ${dep}`).toContain(dep);
        if (condition === 'service_healthy')
          expect(svc(dep).healthcheck?.test[0], `${dep} health check`).toMatch(/^CMD(-SHELL)?$/);
        if (condition === 'service_completed_successfully') expect(JOBS, dep).toContain(dep);
      }
    }
  });

  it('has a health check on every long-running service, restarts, and retries the jobs', () => {
    for (const [name, s] of Object.entries(services)) {
      if (JOBS.includes(name)) {
        expect(s.restart, name).toBe('on-failure');
        continue;
      }
      expect(s.healthcheck?.test[0], name).toMatch(/^CMD(-SHELL)?$/);
      expect(s.restart, name).toBe('unless-stopped');
    }
    // pg_isready over TCP: the image's temporary init server (socket only) cannot pass it.
    expect(svc('postgres').healthcheck?.test.join(' ')).toContain('pg_isready -h 127.0.0.1');
    expect(svc('worker').healthcheck?.test.join(' ')).toContain('http://127.0.0.1:9464/readyz');
    expect(svc('worker').environment?.SEVSYNC_WORKER_HTTP_PORT).toBe('9464');
    // The namespace job waits for the frontend, then creates the namespace and the search attributes.
    const ns = String(svc('temporal-namespace').command);
    expect(ns).toContain('cluster health');
    expect(ns).toContain('namespace create');
    for (const sa of ['SevsyncAccount', 'SevsyncState']) expect(ns).toContain(sa);
    expect(ns).toContain('--type Keyword');
  });

  it('reads the key from a compose secret file and passwords from .env (both git-ignored)', () => {
    expect(file).not.toContain('openssl rand');
    expect(compose.secrets.sevsync_secret_key?.file).toBe('./secrets/sevsync_secret_key');
    for (const name of ['worker', 'import-worker', 'migrate']) {
      expect(svc(name).secrets, name).toEqual(['sevsync_secret_key']);
      expect(svc(name).environment?.SEVSYNC_SECRET_KEY_FILE).toBe('/run/secrets/sevsync_secret_key');
      expect(svc(name).environment?.SEVSYNC_SECRET_KEY).toBeUndefined();
    }
    const ignored = readFileSync(path.join(root, '.gitignore'), 'utf8').split('\n');
    expect(ignored).toContain('.env');
    expect(ignored).toContain('secrets/');
    const init = readFileSync(path.join(root, 'scripts/compose-init.sh'), 'utf8');
    // Written once, never overwritten: the second `up` decrypts what the first one stored.
    expect(init).toContain('[ ! -s secrets/sevsync_secret_key ]');
    expect(init).toContain('[ ! -f .env ]');
  });

  it('uses separate database roles for sevsync and Temporal', () => {
    // The worker has rows, not the schema; migrations run as the owner.
    expect(svc('worker').environment?.DATABASE_URL).toMatch(/^postgres:\/\/sevsync_app:/);
    expect(svc('migrate').environment?.SEVSYNC_MIGRATION_DATABASE_URL).toMatch(/^postgres:\/\/sevsync:/);
    expect(svc('temporal').environment?.POSTGRES_USER).toBe('temporal');
    expect(svc('temporal-schema').environment?.POSTGRES_USER).toBe('temporal');
    const init = readFileSync(path.join(root, 'deploy/compose/postgres-init.sh'), 'utf8');
    expect(init).toContain('CREATE DATABASE sevsync OWNER sevsync');
    expect(init).toContain('CREATE ROLE sevsync_app LOGIN');
    expect(init).toContain('CREATE DATABASE temporal OWNER temporal');
    expect(init).toContain('CREATE DATABASE temporal_visibility OWNER temporal');
  });

  it('gives the worker an init process, a memory limit with the heap below it, and a stop grace above the shutdown grace', () => {
    const w = svc('worker');
    expect(w.init).toBe(true);
    const limitMb = Number(/^(\d+)M$/.exec(w.deploy?.resources?.limits?.memory ?? '')?.[1]);
    const heapMb = Number(/--max-old-space-size=(\d+)/.exec(w.environment?.NODE_OPTIONS ?? '')?.[1]);
    expect(heapMb).toBeGreaterThan(0);
    expect(heapMb).toBeLessThan(limitMb * 0.8);
    expect(seconds(w.stop_grace_period ?? '0s')).toBeGreaterThan(
      Number(w.environment?.SEVSYNC_SHUTDOWN_GRACE_SECONDS),
    );
  });

  it("gives the worker an environment that sevsync's config accepts (key from the secret file)", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sevsync-compose-'));
    const keyFile = path.join(dir, 'sevsync_secret_key');
    writeFileSync(keyFile, `${Buffer.alloc(32, 1).toString('base64')}\n`);
    const vars = {
      SEVSYNC_DB_PASSWORD: 'pw1',
      TEMPORAL_DB_PASSWORD: 'pw2',
      POSTGRES_PASSWORD: 'pw3',
      SEVSYNC_APP_DB_PASSWORD: 'pw4',
    };
    for (const name of ['worker', 'import-worker', 'migrate']) {
      const env = Object.fromEntries(
        Object.entries(svc(name).environment ?? {}).map(([k, v]) => [k, resolve(String(v), vars)]),
      );
      env.SEVSYNC_SECRET_KEY_FILE = keyFile; // where compose mounts ./secrets/sevsync_secret_key
      const config = loadConfig(env);
      expect(config.temporalAddress).toBe('temporal:7233');
      expect(config.databaseUrl).toBe('postgres://sevsync_app:pw4@postgres:5432/sevsync');
      if (name === 'migrate')
        expect(config.migration?.databaseUrl).toBe('postgres://sevsync:pw1@postgres:5432/sevsync');
      expect(config.secretKey?.length).toBe(32);
      if (name !== 'migrate')
        expect(config.ops).toMatchObject({ workerHttpPort: 9464, shutdownGraceSeconds: 60 });
    }
    // Without .env compose refuses with a message that says what to run.
    expect(() => resolve(String(svc('worker').environment?.DATABASE_URL), {})).toThrow(/compose-init/);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const runtime = stages.at(-1) ?? '';

  it('is multi-stage on a supported Node (22 or 24) bookworm-slim, pinned', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) expect(s).toMatch(/^node:(22|24)\.\d+-bookworm-slim\b/);
  });

  it('builds the workflow bundle at image build time and points the worker at it', () => {
    expect(dockerfile).toContain('scripts/build-workflows.ts /app/dist/workflow-bundle.js');
    expect(runtime).toContain('COPY --from=build /app/dist/workflow-bundle.js');
    expect(runtime).toContain('SEVSYNC_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js');
  });

  it('runs as node with ca-certificates, production dependencies only, and the driver patch applied', () => {
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toContain('ca-certificates');
    expect(dockerfile).toContain('npm ci --omit=dev');
    expect(dockerfile).toContain('rm -rf node_modules/@temporalio/testing');
    // patch-package runs on `npm ci` (postinstall) and needs patches/ first.
    expect(dockerfile.indexOf('COPY patches')).toBeLessThan(dockerfile.indexOf('npm ci'));
    expect(readFileSync(path.join(root, '.dockerignore'), 'utf8').split('\n')).toEqual(
      expect.arrayContaining(['.env', 'secrets', 'node_modules']),
    );
  });
});
