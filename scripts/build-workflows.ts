// `npm run build:workflows [-- OUT]`: bundles the workflows once (webpack, as the worker would at start) into
// OUT (default dist/workflow-bundle.js). The image runs it at build time and points SEVSYNC_WORKFLOW_BUNDLE at
// the file, so no replica bundles at start (faster start and crash recovery, one identical bundle per image).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { failureConverterPath } from '../src/temporal/data-converter';
import { workflowsPath } from '../src/workflow-bundle';

async function main(): Promise<void> {
  const out = path.resolve(process.argv[2] ?? 'dist/workflow-bundle.js');
  const started = performance.now();
  // With encrypted payloads the failures workflow code raises are encoded too (their messages may quote
  // sevDesk); the bundle then carries the failure converter.
  const encrypt =
    process.env['SEVSYNC_ENCRYPT_PAYLOADS'] === '1' || process.env['SEVSYNC_ENCRYPT_PAYLOADS'] === 'true';
  const { code } = await bundleWorkflowCode({
    workflowsPath: workflowsPath(),
    ...(encrypt ? { failureConverterPath: failureConverterPath() } : {}),
  });
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, code);
  console.log(
    `wrote ${out} (${Math.round(code.length / 1024)} KiB) in ${Math.round(performance.now() - started)} ms`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
