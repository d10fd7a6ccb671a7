import { loadConfig } from '../src/config';
import { createWorker } from '../src/worker/create';

// The real worker (createWorker, the real activities) with a workflow bundle built beforehand, the way the
// tests run it: the what-if for shipping a prebuilt bundle instead of bundling with webpack at every start.
// Configured by the same environment variables as `sevsync worker`, the task queues it serves too
// (SEVSYNC_WORKER_QUEUES, what `--queues` sets); the bundle path is the first argument.

async function main(): Promise<void> {
  const codePath = process.argv[2];
  if (!codePath) throw new Error('usage: worker-process.ts <workflow bundle path>');
  const w = await createWorker({ config: loadConfig(process.env), workflowBundle: { codePath } });
  // The same words and fields as `sevsync worker`'s start-up line (bench/infra.ts waits for it).
  const taskQueues = w.served.map((s) => s.taskQueue);
  console.error(
    JSON.stringify({
      msg: `worker polling task queue${taskQueues.length > 1 ? 's' : ''} ${taskQueues.join(', ')}`,
      queues: w.served.map((s) => s.queue),
      taskQueues,
    }),
  );
  await w.run();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
