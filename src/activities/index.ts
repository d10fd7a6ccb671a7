import { createSyncActivities } from './account-sync';
import { createImportActivities } from './bulk-import';
import type { ActivityDeps } from './deps';

export type { ActivityDeps } from './deps';

/** All activities, built from their dependencies (injected: the worker's, or a test's). */
export function createActivities(deps: ActivityDeps) {
  return { ...createSyncActivities(deps), ...createImportActivities(deps) };
}

export type Activities = ReturnType<typeof createActivities>;
