// The workflow bundle of the patch-variant replays: the real workflow code, built with '@temporalio/workflow'
// aliased to workflow-shim.ts, so that a replay can switch one patch's branch (variant-id.ts says how).
import path from 'node:path';
import type { WorkflowBundle } from '@temporalio/worker';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowsPath } from '../../../src/workflow-bundle';

const SHIM = path.resolve(__dirname, 'workflow-shim.ts');

export function bundlePatchVariants(): Promise<WorkflowBundle> {
  return bundleWorkflowCode({
    workflowsPath: workflowsPath(),
    webpackConfigHook: (config) => {
      const alias = config.resolve?.alias;
      config.resolve = {
        ...config.resolve,
        // `$`: only the bare package name; the shim reaches the real package as '@temporalio/workflow/lib/index'.
        alias: { ...(alias && !Array.isArray(alias) ? alias : {}), '@temporalio/workflow$': SHIM },
      };
      return config;
    },
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error },
  });
}
