// How a replay asks the patch-variant bundle for a variant: through the workflow id it replays the history
// under (Worker.runReplayHistories takes one per history), so one bundle serves every patch and mode. Plain
// TypeScript: the workflow shim imports it into the bundle.

/**
 * branch-off: the marker as patched() records it, but the old branch: only what the branch does differs.
 * unguarded: the new branch without patched(), as if the patch had been deleted from the code.
 * deprecated: deprecatePatch() and the new branch, the middle step of removing a patch.
 */
export const VARIANT_MODES = ['branch-off', 'unguarded', 'deprecated'] as const;
export type VariantMode = (typeof VARIANT_MODES)[number];

const PATTERN = /^patch-variant\(([a-z-]+) ([^ )]+)\) /;

export const variantWorkflowId = (mode: VariantMode, patchId: string, workflowId: string): string =>
  `patch-variant(${mode} ${patchId}) ${workflowId}`;

export function parseVariant(workflowId: string): { mode: VariantMode; patchId: string } | undefined {
  const [, mode, patchId] = PATTERN.exec(workflowId) ?? [];
  return patchId && (VARIANT_MODES as readonly string[]).includes(mode ?? '')
    ? { mode: mode as VariantMode, patchId }
    : undefined;
}
