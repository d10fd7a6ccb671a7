import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import postgres from 'postgres';
import type { Config } from '../src/config';
import { migrateDatabase } from '../src/db/migrate';
import { devServerArgs, ensureTemporal } from '../src/dev/temporal-cli';
import type { HostedSandbox, SandboxSpec } from './sandbox-host';

const REPO = path.resolve(__dirname, '..');
export const ADMIN_DATABASE_URL =
  process.env.SEVSYNC_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** A fixed bench key: tokens here are sandbox tokens, never real ones. */
export const BENCH_SECRET_KEY = Buffer.alloc(32, 11);

export const log = (msg: string): void => {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);
};

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A child process the bench started; stop() ends exactly it (SIGTERM, then SIGKILL after a grace period). */
export interface Child {
  pid: number;
  proc: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  stop(graceMs?: number): Promise<void>;
}

function track(proc: ChildProcess, what: string): Child {
  if (proc.pid === undefined) throw new Error(`could not start ${what}`);
  let out = '';
  const keep = (d: Buffer) => {
    // Only the tail is kept: it is printed when something fails.
    out = (out + d.toString()).slice(-20_000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => {
    done = true;
  });
  return {
    pid: proc.pid,
    proc,
    output: () => out,
    exited,
    stop: async (graceMs = 15_000) => {
      if (done) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}

async function waitFor<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
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

export function benchConfig(over: Pick<Config, 'databaseUrl' | 'temporalAddress' | 'taskQueue'>): Config {
  return {
    temporalNamespace: 'default',
    secretKey: BENCH_SECRET_KEY,
    sevdeskBaseUrl: 'http://127.0.0.1:9/api/v1',
    syncIntervalSeconds: 300,
    ...over,
  };
}

/** The real `sevsync worker` (bin/sevsync.cjs) in its own process: its CPU and RSS are its own. */
export async function startWorkerProcess(config: Config): Promise<Child> {
  const child = track(
    spawn(process.execPath, [path.join(REPO, 'bin', 'sevsync.cjs'), 'worker'], {
      cwd: REPO,
      env: {
        ...process.env,
        DATABASE_URL: config.databaseUrl,
        TEMPORAL_ADDRESS: config.temporalAddress,
        TEMPORAL_NAMESPACE: config.temporalNamespace,
        SEVSYNC_TASK_QUEUE: config.taskQueue,
        SEVSYNC_SECRET_KEY: config.secretKey?.toString('base64') ?? '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
    'the worker',
  );
  await waitFor('the worker to poll', 120_000, async () => {
    if (child.output().includes('worker polling task queue')) return true;
    if (child.proc.exitCode !== null) throw new Error(`the worker exited:\n${child.output()}`);
    return undefined;
  });
  return child;
}

/** Sandboxes in a child process (bench/sandbox-host.ts); their CPU is measured apart from the bench's. */
export async function startSandboxHost(
  specs: SandboxSpec[],
): Promise<Child & { sandboxes: HostedSandbox[] }> {
  const child = track(
    spawn(
      process.execPath,
      ['--require', 'tsx/cjs', path.join(__dirname, 'sandbox-host.ts'), JSON.stringify(specs)],
      {
        cwd: REPO,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    ),
    'the sandbox host',
  );
  const sandboxes = await waitFor('the sandboxes', 120_000, async () => {
    const line = child
      .output()
      .split('\n')
      .find((l) => l.startsWith('{"ready"'));
    if (line) return (JSON.parse(line) as { ready: HostedSandbox[] }).ready;
    if (child.proc.exitCode !== null) throw new Error(`the sandbox host exited:\n${child.output()}`);
    return undefined;
  });
  return { ...child, sandboxes };
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
