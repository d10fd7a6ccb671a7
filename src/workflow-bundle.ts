// How the workflow code is bundled, wherever it is (the worker at start, `npm run build:workflows` for the
// image, the tests and the benches): one bundle, one behaviour.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { BundleOptions } from '@temporalio/worker';

/** The workflows' entry: the TypeScript source (tsx, vitest), or what a compiled layout resolves to. */
export function workflowsPath(): string {
  const source = path.join(__dirname, 'workflows', 'index.ts');
  return existsSync(source) ? source : require.resolve('./workflows');
}

export const workflowBundleOptions = (): Pick<BundleOptions, 'workflowsPath'> => ({
  workflowsPath: workflowsPath(),
});
