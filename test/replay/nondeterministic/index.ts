// A deliberately incompatible accountSyncWorkflow for the negative replay test: it waits before anything else
// (as if someone added start-up jitter without patched()), so its first workflow task starts a timer where
// every recorded history (of every set) records a patch marker, starts a child workflow or an activity. The
// bulk import and the webhook delivery are the real ones.
import { sleep } from '@temporalio/workflow';
import type { AccountSyncInput } from '../../../src/workflows';
import { accountSyncWorkflow as currentAccountSyncWorkflow } from '../../../src/workflows';

export { bulkImportWorkflow, webhookDeliveryWorkflow } from '../../../src/workflows';

export async function accountSyncWorkflow(input: AccountSyncInput): Promise<void> {
  await sleep('1 second');
  return currentAccountSyncWorkflow(input);
}
