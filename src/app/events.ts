// The change feed's use cases: an account's events by seq, every account's by an opaque cursor, and a
// customer's value history (docs/events.md).
import { accountExists } from '../db/interfaces';
import type { AccountPage, ChangeEvent, GlobalPage } from '../db/events';
import {
  BadCursorError,
  DEFAULT_EVENT_LIMIT,
  EventsGoneError,
  MAX_EVENT_LIMIT,
  accountEvents,
  customerValueHistory,
  globalEvents,
} from '../db/events';
import type { AppDeps } from './deps';
import { AppError } from './errors';

type Db = Pick<AppDeps, 'db'>;

function checkLimit(limit: number | undefined): number {
  const n = limit ?? DEFAULT_EVENT_LIMIT;
  if (!Number.isInteger(n) || n < 1 || n > MAX_EVENT_LIMIT)
    throw new AppError('invalid_input', `limit must be a whole number from 1 to ${MAX_EVENT_LIMIT}`);
  return n;
}

/** The feed's own errors as the caller's: a cursor past retention is 410, one it never gave out is 400. */
function asAppError(err: unknown): never {
  if (err instanceof EventsGoneError) throw new AppError('gone', err.message);
  if (err instanceof BadCursorError) throw new AppError('invalid_input', err.message);
  throw err;
}

async function requireAccount(deps: Db, accountId: string): Promise<void> {
  if (!(await accountExists(deps.db.sql, accountId)))
    throw new AppError(
      'not_found',
      `account ${accountId} is unknown (it gets created by: sevsync interface add)`,
    );
}

/** The account's events after seq `after` (0: from the first), at most `limit`. */
export async function getAccountEvents(
  deps: Db,
  accountId: string,
  opts: { after?: number | undefined; limit?: number | undefined },
): Promise<AccountPage> {
  const limit = checkLimit(opts.limit);
  const after = opts.after ?? 0;
  if (!Number.isSafeInteger(after) || after < 0)
    throw new AppError(
      'invalid_input',
      'after must be a seq the feed gave (a whole number, 0 for the start)',
    );
  await requireAccount(deps, accountId);
  return accountEvents(deps.db.sql, accountId, after, limit).catch(asAppError);
}

/** Every account's events after the opaque `after` cursor (absent: from the first kept). */
export async function getGlobalEvents(
  deps: Db,
  opts: { after?: string | undefined; limit?: number | undefined },
): Promise<GlobalPage> {
  const limit = checkLimit(opts.limit);
  return globalEvents(deps.db.sql, opts.after, limit).catch(asAppError);
}

export interface CustomerHistory {
  customer: string;
  history: ChangeEvent[];
}

/** Why a customer's values are what they are: its `customer.values_changed` events, oldest first. */
export async function getCustomerHistory(
  deps: Db,
  accountId: string,
  email: string,
): Promise<CustomerHistory> {
  await requireAccount(deps, accountId);
  const history = await customerValueHistory(deps.db.sql, accountId, email);
  if (history === null) throw new AppError('not_found', `account ${accountId} has no customer ${email}`);
  return { customer: email.trim().toLowerCase(), history };
}
