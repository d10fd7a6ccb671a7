// A `sevsync worker` process (runWorkerMain) for the ops tests; with `--crash-after-ready` it throws an
// uncaught error from a timer once the worker polls, the way a driver bug would, to show the fatal-error
// handler at work. Usage: tsx test/helpers/ops-worker.ts [--crash-after-ready]
import { loadConfig } from '../../src/config';
import { runWorkerMain } from '../../src/worker/main';

const crash = process.argv.includes('--crash-after-ready');
if (crash) {
  const port = Number(process.env['SEVSYNC_WORKER_HTTP_PORT']);
  const timer = setInterval(() => {
    void fetch(`http://127.0.0.1:${port}/readyz`)
      .then((r) => {
        if (r.status !== 200) return;
        clearInterval(timer);
        setTimeout(() => {
          throw new Error('simulated driver crash');
        }, 10);
      })
      .catch(() => {});
  }, 100);
}
runWorkerMain(loadConfig(process.env)).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
