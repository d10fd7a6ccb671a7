import { loadConfig } from '../src/config';
import { createWorker } from '../src/worker/create';

// The real worker (createWorker, the real activities) with a workflow bundle built beforehand, the way the
// tests run it: the what-if for shipping a prebuilt bundle instead of bundling with webpack at every start.
// Configured by the same environment variables as `sevsync worker`; the bundle path is the first argument.

async function main(): Promise<void> {
  const codePath = process.argv[2];
  if (!codePath) throw new Error('usage: worker-process.ts <workflow bundle path>');
  const w = await createWorker({ config: loadConfig(process.env), workflowBundle: { codePath } });
  console.error(`worker polling task queue ${w.worker.options.taskQueue}`);
  await w.run();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
