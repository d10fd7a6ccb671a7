// `sevsync worker`: the process itself (Runtime, fatal-error handler, ops server, JSON logs) is
// src/worker/main.ts.
import type { Command } from 'commander';
import { runWorkerMain } from '../worker/main';
import { envConfig } from './common';

export function addWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('run the worker (workflows and activities) until SIGINT/SIGTERM')
    .action(async () => {
      await runWorkerMain(envConfig());
    });
}
