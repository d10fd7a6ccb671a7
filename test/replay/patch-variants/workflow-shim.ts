// '@temporalio/workflow' as the patch-variant bundle sees it (bundle.ts aliases the package to this module):
// the real package, except that patched() answers differently for the one patch id the replay's workflow id
// names (variant-id.ts). Any other id, and any other workflow id, get the real patched().
import { deprecatePatch, patched as sdkPatched, workflowInfo } from '@temporalio/workflow/lib/index';
import { parseVariant } from './variant-id';

export * from '@temporalio/workflow/lib/index';

export function patched(patchId: string): boolean {
  const variant = parseVariant(workflowInfo().workflowId);
  if (variant?.patchId !== patchId) return sdkPatched(patchId);
  switch (variant.mode) {
    case 'branch-off':
      sdkPatched(patchId);
      return false;
    case 'unguarded':
      return true;
    case 'deprecated':
      deprecatePatch(patchId);
      return true;
  }
}
