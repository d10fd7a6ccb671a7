// `sevsync worker`: the process itself (Runtime, fatal-error handler, ops server, JSON logs) is
// src/worker/main.ts; `--queues` picks the task queues it serves (src/worker/queues.ts).
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Config } from '../config';
import { ConfigError, loadConfig } from '../config';
import { runWorkerMain } from '../worker/main';
import type { WorkerQueue } from '../worker/queues';
import { WORKER_QUEUES, parseWorkerQueues } from '../worker/queues';

/** `--queues`: a wrong name is a usage error (exit 2), as every other invalid argument. */
function queuesArgument(value: string): WorkerQueue[] {
  const parsed = parseWorkerQueues(value);
  if (!parsed.ok) throw new InvalidArgumentError(parsed.reason);
  return parsed.queues;
}

/**
 * The worker's configuration: `--queues` when given (then SEVSYNC_WORKER_QUEUES is not read), else the
 * environment's, where a wrong name is a ConfigError like a wrong variable.
 */
export function workerConfig(
  queues: string | WorkerQueue[] | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Config {
  if (queues === undefined) return loadConfig(env);
  const parsed = typeof queues === 'string' ? parseWorkerQueues(queues) : { ok: true as const, queues };
  if (!parsed.ok) throw new ConfigError(`invalid configuration:\n  --queues: ${parsed.reason}`);
  const config = loadConfig({ ...env, SEVSYNC_WORKER_QUEUES: undefined });
  return { ...config, ops: { ...config.ops!, workerQueues: parsed.queues } };
}

export function addWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('run the worker (workflows and activities) until SIGINT/SIGTERM')
    .addOption(
      new Option(
        '--queues <list>',
        `the task queues this process serves, comma-separated from ${WORKER_QUEUES.join(', ')} ` +
          '(default: SEVSYNC_WORKER_QUEUES, else all three)',
      ).argParser(queuesArgument),
    )
    .action(async (o: { queues?: WorkerQueue[] }) => {
      await runWorkerMain(workerConfig(o.queues));
    });
}
