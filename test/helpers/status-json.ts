/** The keys of an account's status as `status --json` prints it and GET /api/accounts/:id/status sends it. */
export const STATUS_KEYS = [
  'account',
  'active',
  'conflicts',
  'counts',
  'error',
  'heldSweep',
  'import',
  'invalid',
  'lastSyncAt',
  'nextSyncAt',
  'receipt',
  'state',
  'unassigned',
].sort();
