// What every activity is built from (injected by the worker and by tests), and the two things all of them
// do with it: open the account's sevDesk interface, and turn a client error into a Temporal failure.
import { ApplicationFailure } from '@temporalio/common';
import type { Sql } from '../db/client';
import type { InterfaceRecord } from '../db/interfaces';
import { loadInterface } from '../db/interfaces';
import type { SevdeskClient } from '../sevdesk/client';
import { isSevdeskError, SevdeskRateLimitedError } from '../sevdesk/errors';
import { SevdeskShortPageError } from '../sevdesk/paging';
import { ErrorTypes } from '../shared';

export interface ActivityDeps {
  sql: Sql;
  /** Builds a client for one interface; the token never leaves the activity. */
  sevdesk: (opts: { baseUrl: string; token: string }) => SevdeskClient;
  decryptToken: (iface: InterfaceRecord) => string;
  /** Re-read window for `updateAfter`: the bound's inclusivity is unknown and clocks differ. */
  overlapSeconds?: number;
  /** Unassigned invoices' contacts re-read per cycle (they may have got an e-mail). */
  recheckLimit?: number;
  /** A contact of an unassigned invoice is re-read at most this often. */
  recheckAgeSeconds?: number;
  /** Pages of one import in flight at once (fetched ahead of the one being written); default 4. */
  importWindow?: number;
}

export const DEFAULT_OVERLAP_SECONDS = 300;

/** Maps client errors to Temporal failures: workflows branch on `type`, retries honour Retry-After. */
export function toFailure(err: unknown): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof SevdeskShortPageError) {
    return ApplicationFailure.create({ type: ErrorTypes.shortPage, message: err.message });
  }
  if (err instanceof SevdeskRateLimitedError) {
    return ApplicationFailure.create({
      type: err.type,
      message: err.message,
      nextRetryDelay: err.retryAfterMs ?? undefined,
    });
  }
  if (isSevdeskError(err)) {
    return ApplicationFailure.create({ type: err.type, message: err.message, nonRetryable: !err.retryable });
  }
  return err;
}

/** The interface and a client for it; the decrypted token goes straight into the client and nowhere else. */
export async function openInterface(deps: ActivityDeps, accountId: string) {
  const iface = await loadInterface(deps.sql, accountId);
  if (!iface) {
    throw ApplicationFailure.create({
      type: ErrorTypes.interfaceMissing,
      message: `account ${accountId} has no sevDesk interface`,
      nonRetryable: true,
    });
  }
  const client = deps.sevdesk({ baseUrl: iface.baseUrl, token: deps.decryptToken(iface) });
  return { iface, client };
}
