import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import type { Config } from '../src/config';
import { devServerArgs } from '../src/dev/temporal-cli';
import { freeLoopbackPort } from '../src/worker/free-port';

const REPO = path.resolve(__dirname, '..');

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A TCP port free on 127.0.0.1 right now (the product's helper). */
export const freePort = freeLoopbackPort;

/** Children still alive when the campaign's process exits are killed with it, never left behind. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

interface Spawned {
  child: ChildProcess;
  exited: Promise<number | null>;
}

function spawnLogged(command: string, args: string[], env: NodeJS.ProcessEnv, log: WriteStream): Spawned {
  const child = spawn(command, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    }),
  );
  return { child, exited };
}

/** A child process with its own log file: killed like a crash, or stopped with a grace period. */
abstract class LoggedProcess {
  protected proc: Spawned | undefined;
  protected readonly log: WriteStream;

  protected constructor(logFile: string) {
    this.log = createWriteStream(logFile, { flags: 'a' });
  }

  /** SIGKILL and wait for the exit: no shutdown, whatever was in flight is lost the way a crash loses it. */
  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.proc = undefined;
    this.log.write(`--- SIGKILL ${new Date().toISOString()}\n`);
    proc.child.kill('SIGKILL');
    await proc.exited;
  }

  /** SIGTERM, SIGKILL after `graceMs`; then the log is closed. */
  protected async end(graceMs: number): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (proc) {
      proc.child.kill('SIGTERM');
      const force = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
      await proc.exited;
      clearTimeout(force);
    }
    await new Promise<void>((r) => this.log.end(r));
  }
}

/**
 * `temporal server start-dev` on a fixed port with a SQLite file: killed with SIGKILL and started again,
 * it comes back on the same address with every workflow, timer and task queue it had.
 */
export class TemporalDevServer extends LoggedProcess {
  constructor(
    private readonly bin: string,
    readonly port: number,
    private readonly dbFile: string,
    logFile: string,
  ) {
    super(logFile);
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(timeoutMs = 60_000): Promise<void> {
    this.log.write(`--- start ${new Date().toISOString()}\n`);
    this.proc = spawnLogged(
      this.bin,
      devServerArgs({ port: this.port, dbFile: this.dbFile }),
      process.env,
      this.log,
    );
    const proc = this.proc;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (proc.child.exitCode !== null)
        throw new Error(`the Temporal dev server exited with ${proc.child.exitCode}`);
      try {
        const connection = await Connection.connect({ address: this.address, connectTimeout: 1000 });
        try {
          await connection.workflowService.describeNamespace({ namespace: 'default' });
          return;
        } finally {
          await connection.close();
        }
      } catch (err) {
        if (Date.now() > deadline) throw new Error('the Temporal dev server did not come up', { cause: err });
        await sleep(200);
      }
    }
  }

  stop(): Promise<void> {
    return this.end(10_000);
  }
}

/**
 * The real `sevsync worker` (bin/sevsync.cjs) in its own process. An exit the campaign did not cause is
 * reported to `onUnplannedExit` and the worker is started again, as a process supervisor would.
 */
export class WorkerProcess extends LoggedProcess {
  private stopping = false;
  starts = 0;

  constructor(
    private readonly config: Config,
    logFile: string,
    private readonly onUnplannedExit: (code: number | null, signal: NodeJS.Signals | null) => void,
    /** A workflow bundle built once: every restart loads it, as production images do. */
    private readonly workflowBundlePath?: string,
  ) {
    super(logFile);
  }

  start(): void {
    this.starts += 1;
    this.log.write(`--- start #${this.starts} ${new Date().toISOString()}\n`);
    const env = {
      ...process.env,
      DATABASE_URL: this.config.databaseUrl,
      TEMPORAL_ADDRESS: this.config.temporalAddress,
      TEMPORAL_NAMESPACE: this.config.temporalNamespace,
      SEVSYNC_TASK_QUEUE: this.config.taskQueue,
      SEVSYNC_SECRET_KEY: this.config.secretKey?.toString('base64') ?? '',
      ...(this.workflowBundlePath ? { SEVSYNC_WORKFLOW_BUNDLE: this.workflowBundlePath } : {}),
    };
    const proc = spawnLogged(
      process.execPath,
      [path.join(REPO, 'bin', 'sevsync.cjs'), 'worker'],
      env,
      this.log,
    );
    this.proc = proc;
    proc.child.once('exit', (code, signal) => {
      if (this.proc !== proc || this.stopping) return;
      this.proc = undefined;
      this.log.write(`--- unplanned exit code=${code} signal=${signal} ${new Date().toISOString()}\n`);
      this.onUnplannedExit(code, signal);
      setTimeout(() => {
        if (!this.stopping && !this.proc) this.start();
      }, 1000).unref();
    });
  }

  /** Resolves once the worker polls its task queue (it bundles the workflows first). */
  async ready(timeoutMs = 120_000): Promise<void> {
    const proc = this.proc;
    if (!proc) throw new Error('the worker is not running');
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => reject(new Error('the worker did not start polling')), timeoutMs);
      const onData = (d: Buffer) => {
        seen = (seen + d.toString()).slice(-4000);
        if (seen.includes('worker polling task queue')) {
          clearTimeout(timer);
          proc.child.stderr?.off('data', onData);
          resolve();
        }
      };
      proc.child.stderr?.on('data', onData);
      proc.child.once('exit', () => {
        clearTimeout(timer);
        reject(new Error('the worker exited before it polled'));
      });
    });
  }

  stop(): Promise<void> {
    this.stopping = true;
    return this.end(15_000);
  }
}
