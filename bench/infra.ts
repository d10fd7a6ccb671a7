import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import postgres from 'postgres';
import type { Config } from '../src/config';
import { configEnv } from '../src/config';
import { migrateDatabase } from '../src/db/migrate';
import { workflowsPath } from '../src/workflow-bundle';
import { devServerArgs, ensureTemporal } from '../src/dev/temporal-cli';
import type { HostedSandbox, RequestTiming, SandboxSpec } from './sandbox-host';
import { freeLoopbackPort } from '../src/worker/free-port';

const REPO = path.resolve(__dirname, '..');
export const ADMIN_DATABASE_URL =
  process.env.SEVSYNC_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** A fixed bench key: tokens here are sandbox tokens, never real ones. */
export const BENCH_SECRET_KEY = Buffer.alloc(32, 11);

export const log = (msg: string): void => {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);
};

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Rejects when `p` takes longer than `ms`; the timer never keeps the process alive. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`)),
      ms,
    );
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A TCP port free on 127.0.0.1 right now (the product's helper). */
export const freePort = freeLoopbackPort;

/** A child process the bench started; stop() ends exactly it (SIGTERM, then SIGKILL after a grace period). */
export interface Child {
  pid: number;
  proc: ChildProcess;
  /** The tail of stdout and stderr together, for error messages. */
  output(): string;
  /** All of stdout (the bench's own scripts answer there in JSON lines). */
  stdout(): string;
  exited: Promise<number | null>;
  /** Wall clock of the exit (ms), once exited. */
  exitedAt(): number | null;
  stop(graceMs?: number): Promise<void>;
}

/** Every child this process started and that still runs: stopped on the way out, whatever happened. */
const running = new Set<Child>();

export async function stopAllChildren(): Promise<void> {
  await Promise.all([...running].map((c) => c.stop(5_000)));
}

/** keepStdout: for the bench's own scripts, which answer in JSON lines; others' output is only kept as a tail. */
function track(proc: ChildProcess, what: string, keepStdout = false): Child {
  if (proc.pid === undefined) throw new Error(`could not start ${what}`);
  let out = '';
  let stdout = '';
  const keep = (d: Buffer) => {
    // Only the tail is kept: it is printed when something fails.
    out = (out + d.toString()).slice(-20_000);
  };
  proc.stdout?.on('data', (d: Buffer) => {
    if (keepStdout) stdout += d.toString();
    keep(d);
  });
  proc.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  let done = false;
  let exitedAt: number | null = null;
  void exited.then(() => {
    done = true;
    exitedAt = Date.now();
    running.delete(child);
  });
  const child: Child = {
    pid: proc.pid,
    proc,
    output: () => out,
    stdout: () => stdout,
    exited,
    exitedAt: () => exitedAt,
    stop: async (graceMs = 15_000) => {
      if (done) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
  running.add(child);
  return child;
}

/** Ends a waitFor at once (a process that died will not become ready). */
class Fatal extends Error {}

async function waitFor<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      if (err instanceof Fatal) throw err;
      last = err;
    }
    await sleep(200);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** The Temporal CLI dev server on a free port, in memory, spawned directly so that its CPU can be measured. */
export async function startTemporal(): Promise<Child & { address: string; version: string }> {
  const bin = await ensureTemporal({ log });
  if (!bin) throw new Error('no Temporal CLI binary (install Go or set SEVSYNC_TEMPORAL_BIN)');
  const port = await freePort();
  const child = track(
    spawn(bin, devServerArgs({ port, logLevel: 'error' }), { stdio: ['ignore', 'pipe', 'pipe'] }),
    'the Temporal dev server',
  );
  const address = `127.0.0.1:${port}`;
  await waitFor('the Temporal dev server', 60_000, async () => {
    const c = await Connection.connect({ address, connectTimeout: '1s' });
    await c.workflowService.getSystemInfo({});
    await c.close();
    return true;
  }).catch((err: unknown) => {
    void child.stop();
    throw new Error(`${(err as Error).message}\n${child.output()}`);
  });
  const version = await new Promise<string>((resolve) => {
    const p = spawn(bin, ['--version']);
    let v = '';
    p.stdout.on('data', (d: Buffer) => (v += d.toString()));
    p.once('exit', () => resolve(v.trim()));
  });
  return { ...child, address, version };
}

/** A fresh, migrated database; drop it with dropDatabase. */
export async function createDatabase(label: string): Promise<string> {
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/sevsync_bench_${label}_${randomBytes(3).toString('hex')}`;
  await migrateDatabase(url.toString());
  return url.toString();
}

export async function dropDatabase(url: string): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  const admin = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists "${name.replace(/"/g, '""')}" with (force)`);
  } finally {
    await admin.end({ timeout: 5 });
  }
}

/** Flushes dirty pages between phases, so that one phase's writes are not paid for by the next. */
export async function checkpoint(): Promise<void> {
  const sql = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    await sql`checkpoint`;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export function benchConfig(over: Pick<Config, 'databaseUrl' | 'temporalAddress' | 'taskQueue'>): Config {
  return {
    temporalNamespace: 'default',
    secretKey: BENCH_SECRET_KEY,
    sevdeskBaseUrl: 'http://127.0.0.1:9/api/v1',
    syncIntervalSeconds: 300,
    ...over,
  };
}

/**
 * The real `sevsync worker` (bin/sevsync.cjs) in its own process: its CPU and RSS are its own. With
 * prebuiltBundle, bench/worker-process.ts instead: the same createWorker with a bundle built beforehand.
 * `queues`: the task queues it polls (`--queues`, as docker-compose.yml and deploy/kubernetes pass it;
 * worker-process.ts reads SEVSYNC_WORKER_QUEUES); without, all of them. The deployment's two processes:
 * bench/deployment.ts.
 */
export async function startWorkerProcess(
  config: Config,
  opts: {
    nodeArgs?: string[];
    prebuiltBundle?: string;
    queues?: readonly string[];
    /** More environment for the worker (e.g. SEVSYNC_IMPORT_WINDOW, SEVSYNC_WORKER_HTTP_PORT); undefined unsets. */
    env?: Record<string, string | undefined>;
  } = {},
): Promise<Child> {
  const entry = opts.prebuiltBundle
    ? ['--require', 'tsx/cjs', path.join(__dirname, 'worker-process.ts'), opts.prebuiltBundle]
    : [
        path.join(REPO, 'bin', 'sevsync.cjs'),
        'worker',
        ...(opts.queues ? ['--queues', opts.queues.join(',')] : []),
      ];
  const env: Record<string, string | undefined> = {
    ...process.env,
    ...configEnv(config),
    // Only worker-process.ts reads it; `sevsync worker` gets `--queues`, which wins over it.
    SEVSYNC_WORKER_QUEUES: opts.queues ? opts.queues.join(',') : undefined,
    // JSON lines: the start-up line says which queues it serves (checked below).
    ...(opts.queues ? { SEVSYNC_LOG_FORMAT: 'json' } : {}),
    ...opts.env,
  };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  const child = track(
    spawn(process.execPath, [...(opts.nodeArgs ?? []), ...entry], {
      cwd: REPO,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
    'the worker',
  );
  await waitFor('the worker to poll', 120_000, async () => {
    if (child.output().includes('worker polling task queue')) return true;
    if (child.proc.exitCode !== null) throw new Fatal(`the worker exited:\n${child.output()}`);
    return undefined;
  });
  if (opts.queues) {
    // A worker that ignored the selection would poll every queue, and its figures would be another
    // deployment's: its start-up line (JSON) names what it serves.
    const line = child
      .output()
      .split('\n')
      .find((l) => l.includes('worker polling task queue'));
    let served: unknown;
    try {
      served = (JSON.parse(line ?? '') as { queues?: unknown }).queues;
    } catch {
      served = undefined;
    }
    const want = [...opts.queues].sort().join(',');
    if (!Array.isArray(served) || [...(served as string[])].sort().join(',') !== want) {
      await child.stop();
      throw new Error(
        `the worker was asked to serve ${want} but its start-up line says: ${line ?? '(none)'}`,
      );
    }
  }
  return child;
}

/** A bench script (TypeScript, through tsx) in a child process of its own, stdin open for a start signal. */
export function startBenchScript(script: string, args: string[], nodeArgs: string[] = []): Child {
  return track(
    spawn(process.execPath, [...nodeArgs, '--require', 'tsx/cjs', path.join(__dirname, script), ...args], {
      cwd: REPO,
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
    script,
    true,
  );
}

/** The first output line of `child` that starts with `prefix`, parsed as JSON. */
export async function waitForLine<T>(
  child: Child,
  prefix: string,
  timeoutMs: number,
  what: string,
): Promise<T> {
  return waitFor(what, timeoutMs, async () => {
    // Complete lines only: the last piece may still be arriving.
    const line = child
      .stdout()
      .split('\n')
      .slice(0, -1)
      .find((l) => l.startsWith(prefix));
    if (line) return JSON.parse(line) as T;
    if (child.proc.exitCode !== null) throw new Fatal(`${what}: the process exited:\n${child.output()}`);
    return undefined;
  });
}

export type SandboxHost = Child & {
  sandboxes: HostedSandbox[];
  /**
   * Every API request the host's sandboxes answered so far, arrival to last byte sent (its wall clock); only
   * with `timeRequests` (an empty list otherwise).
   */
  requestTimes(): Promise<RequestTiming[]>;
};

/**
 * Sandboxes in a child process (bench/sandbox-host.ts); their CPU is measured apart from the bench's. With
 * timeRequests the host times every API request it answers (bench/sandbox-host.ts), read by requestTimes().
 */
export async function startSandboxHost(
  specs: SandboxSpec[],
  opts: { timeRequests?: boolean } = {},
): Promise<SandboxHost> {
  const child = startBenchScript('sandbox-host.ts', [
    JSON.stringify(specs),
    JSON.stringify({ timeRequests: opts.timeRequests ?? false }),
  ]);
  const { ready } = await waitForLine<{ ready: HostedSandbox[] }>(
    child,
    '{"ready"',
    120_000,
    'the sandboxes',
  );
  let asked = 0;
  return {
    ...child,
    sandboxes: ready,
    requestTimes: async () => {
      const id = ++asked;
      child.proc.stdin?.write(`requests ${id}\n`);
      const { entries } = await waitForLine<{ entries: RequestTiming[] }>(
        child,
        `{"requests":${id},`,
        60_000,
        'the sandbox request times',
      );
      return entries;
    },
  };
}

/** Resources released in reverse order, also when a phase fails half-way. */
export class Cleanup {
  private readonly steps: { what: string; fn: () => Promise<void> }[] = [];

  add(what: string, fn: () => Promise<void>): void {
    this.steps.push({ what, fn });
  }

  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step.fn();
      } catch (err) {
        log(`cleanup of ${step.what} failed: ${(err as Error).message}`);
      }
    }
  }
}

/** The project's workflow bundle, built once into a temp file (what a prebuilt-bundle worker would ship). */
export async function buildWorkflowBundle(): Promise<{ path: string; remove(): void }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sevsync-bench-'));
  const file = path.join(dir, 'workflows.js');
  const bundle = await bundleWorkflowCode({
    workflowsPath: workflowsPath(),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn: () => {}, error: console.error },
  });
  writeFileSync(file, bundle.code);
  return { path: file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
