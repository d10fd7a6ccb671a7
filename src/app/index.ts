// The application layer: every use case of sevsync, as functions over injected dependencies (AppDeps).
// The CLI (src/cli) and the HTTP API only parse input, call these and format the result;
// errors the caller can act on are AppError with a `type` (httpStatusOf maps it to a status code).
//
// One writer per fact:
// - The `interfaces` row is the truth for whether an interface exists, `active`, its settings, base URL
//   and (encrypted) token. Only these use cases write them.
// - The account workflow's view of `active` and the interval is derived: the use cases send `setActive` /
//   `settingsChanged` after writing the row (signal-with-start, so a missing workflow is started from the
//   row), and the sync activity re-reads the row on every cycle, so an inactive row is never synced.
// - `state`, `last_error`, the cursors and `last_synced_at` in the row are written only by the sync
//   activities; the live state (idle / syncing / paused / error) comes from the workflow's `status` query,
//   with the row as the fallback when no worker answers. `active = false` always shows as `paused`.
// - Imports: the bulk-import workflow owns its progress; the checkpoint row (written by its activities) is
//   the durable copy a stopped import resumes from.
//
// `interface add` is idempotent: insert the row (nothing stored if sevDesk rejects the token), then start
// the workflow with workflowIdConflictPolicy USE_EXISTING; a retry with the same token and settings
// finishes a half-done add instead of failing with "already exists".
//
// Tokens: checked against sevDesk before they are stored; at rest AES-256-GCM bound to account, provider
// and origin (src/secrets.ts; `keys rotate` re-encrypts with the first key of SEVSYNC_SECRET_KEYS). Base
// URLs are https:// (plain http only for loopback hosts, the sandbox); a new base URL needs the token again.
// No message of this layer contains a token.

import { guarded } from './errors';
import * as events from './events';
import * as interfaces from './interfaces';
import * as keys from './keys';
import * as reconcile from './reconcile';
import * as status from './status';
import * as sync from './sync';

export type { AppDeps } from './deps';
export { connectApp } from './deps';
export type { AppErrorType } from './errors';
export { AppError, httpStatusOf, isAppError, toAppError } from './errors';
export type { AddInput, AddResult, AmountBasis, UpdateInput } from './interfaces';
export type { SyncOutcome, SyncRequest, WalkKind, WalkOutcome, WalkStart } from './sync';
export { SYNC_COOLDOWN_MS } from './sync';
export type { HeldSweep } from './reconcile';
export type { ImportView, PageRequest, Receipt, RunView, StatusView } from './status';
export { DEFAULT_PAGE_LIMIT, MAX_HISTORY_LIMIT, MAX_PAGE_LIMIT } from './status';
export type { UnassignedContact } from '../db/unassigned';
export type { CustomerView, InvoiceView } from '../db/views';
export type { RotateResult } from './keys';
export type { CustomerHistory } from './events';
export type { AccountPage, ChangeEvent, GlobalPage } from '../db/events';
export { isLoopbackHost, parseBaseUrl } from './base-url';
export { requireBaseUrl } from './tokens';

// The use cases. Temporal or PostgreSQL out of reach comes out as AppError('unavailable') (HTTP 503).
export const addInterface = guarded(interfaces.addInterface);
export const setInterfaceActive = guarded(interfaces.setInterfaceActive);
export const updateInterfaceSettings = guarded(interfaces.updateInterfaceSettings);
export const removeInterface = guarded(interfaces.removeInterface);
export const syncNow = guarded(sync.syncNow);
export const startImport = guarded(sync.startImport);
export const startReconcile = guarded(sync.startReconcile);
export const followImport = guarded(sync.followImport);
export const syncNowWithin = guarded(sync.syncNowWithin);
export const requestSync = guarded(sync.requestSync);
export const syncSince = guarded(sync.syncSince);
export const walkWithin = guarded(sync.walkWithin);
/** The name the CLI and older tests know. */
export const waitForImport = followImport;
export const confirmReconcile = guarded(reconcile.confirmReconcile);
export const getStatus = guarded(status.getStatus);
export const getStatusPage = guarded(status.getStatusPage);
export const getCustomers = guarded(status.getCustomers);
export const getCustomersPage = guarded(status.getCustomersPage);
export const getCustomer = guarded(status.getCustomer);
export const getHistory = guarded(status.getHistory);
export const getUnassignedByContact = guarded(status.getUnassignedByContact);
export const rotateKeys = guarded(keys.rotateKeys);
export const getAccountEvents = guarded(events.getAccountEvents);
export const getGlobalEvents = guarded(events.getGlobalEvents);
export const getCustomerHistory = guarded(events.getCustomerHistory);
export type { AddWebhookInput, AddedWebhook, WebhookTestResult, WebhookView } from './webhooks';
export { addWebhook, enableWebhook, getWebhook, listWebhooks, removeWebhook, testWebhook } from './webhooks';
