import type { ActivityDeps } from './account-sync';
import { createSyncActivities } from './account-sync';
import { createImportActivities } from './bulk-import';

export type { ActivityDeps } from './account-sync';

/** All activities, built from their dependencies (samples-typescript: activities-dependency-injection). */
export function createActivities(deps: ActivityDeps) {
  return { ...createSyncActivities(deps), ...createImportActivities(deps) };
}

export type Activities = ReturnType<typeof createActivities>;
