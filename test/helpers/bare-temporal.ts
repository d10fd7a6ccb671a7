// A Temporal dev server the way an operator starts their own (`temporal server start-dev` without
// `--search-attribute`): its namespaces have none of sevsync's search attributes.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { findTemporal } from '../../src/dev/temporal-cli';
import { freeLoopbackPort } from '../../src/worker/free-port';
import { eventually } from './env';

export interface BareTemporal {
  address: string;
  /** A client connection to it (operator and workflow services), closed by stop(). */
  connection: Connection;
  output(): string;
  stop(): Promise<void>;
}

/** In memory, headless, on a free port; `namespaces` are created besides `default`. */
export async function startBareTemporal(opts: { namespaces?: string[] } = {}): Promise<BareTemporal> {
  const bin = findTemporal();
  if (!bin) throw new Error('no temporal CLI binary (the integration global setup installs one)');
  const port = await freeLoopbackPort();
  const args = ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(port)];
  args.push('--log-level', 'error');
  for (const ns of opts.namespaces ?? []) args.push('--namespace', ns);
  let out = '';
  const child: ChildProcess = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const address = `127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(force);
    }
  };
  try {
    const connection = await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`the dev server exited: ${out.slice(-2000)}`);
        const c = await Connection.connect({ address, connectTimeout: 1000 });
        try {
          for (const namespace of ['default', ...(opts.namespaces ?? [])])
            await c.workflowService.describeNamespace({ namespace });
          return c;
        } catch (err) {
          await c.close();
          throw err;
        }
      },
      60_000,
      'the bare Temporal dev server',
    );
    return {
      address,
      connection,
      output: () => out,
      stop: async () => {
        await connection.close();
        await stop();
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
