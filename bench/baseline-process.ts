import { closeDefaultDispatchers } from '../src/sevdesk/client';
import type { BaselineInput } from './import-baseline';
import { runBaseline } from './import-baseline';

// The plain loop in a fresh process of its own, like the worker: neither starts with code the other has
// already warmed up, and its CPU and RSS are measured apart from the bench's. Protocol: one "ready" line on
// stdout, a line on stdin to start, one "result" line, then it waits for a second stdin line before closing its
// database pool: the bench reads the CPU of its PostgreSQL backends while they still exist.

async function main(): Promise<void> {
  const input = JSON.parse(process.argv[2] ?? '{}') as BaselineInput;
  const nextLine = () => new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  process.stdout.write('{"ready":true}\n');
  await nextLine();
  await runBaseline(input, async (result) => {
    process.stdout.write(`${JSON.stringify({ result })}\n`);
    await nextLine();
  });
  await closeDefaultDispatchers();
  process.stdin.pause();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
