import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Config } from '../../src/config';
import { configEnv } from '../../src/config';

/** The real `sevsync worker` in its own process, so tests can SIGKILL it. */
export function spawnWorkerProcess(config: Config): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  let out = '';
  const child = spawn(process.execPath, [path.resolve(__dirname, '../../bin/sevsync.cjs'), 'worker'], {
    env: { ...process.env, ...configEnv(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}
