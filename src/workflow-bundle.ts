// How the workflow code is bundled, wherever it is (the worker at start, `npm run build:workflows` for the
// image, the tests and the benches): one bundle, one behaviour.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { BundleOptions } from '@temporalio/worker';

/**
 * Modules that every workflow of the worker shares instead of instantiating them anew (the SDK's reusable V8
 * context; see BundleOptions.preloadModules). Only stateless libraries: classes, converters and constants.
 * @temporalio/workflow itself holds each workflow's state and is never shared. A workflow the worker has not
 * cached (a replay) then builds a fraction of the modules, and a cached one keeps a fraction in memory.
 * Measured by `npm run bench -- --skip-import --skip-latency --skip-fairness --accounts 1000 --interval 60`.
 */
export const PRELOADED_WORKFLOW_MODULES = ['@temporalio/common', 'long', 'ms', 'nexus-rpc'] as const;

/** The workflows' entry: the TypeScript source (tsx, vitest), or what a compiled layout resolves to. */
export function workflowsPath(): string {
  const source = path.join(__dirname, 'workflows', 'index.ts');
  return existsSync(source) ? source : require.resolve('./workflows');
}

export const workflowBundleOptions = (): Pick<BundleOptions, 'workflowsPath' | 'preloadModules'> => ({
  workflowsPath: workflowsPath(),
  preloadModules: [...PRELOADED_WORKFLOW_MODULES],
});
