// The customers of an account as a coach looks for one: a search by name or e-mail, sorted by value or by
// name, a page at a time with opaque cursors both ways ("weiter" / "zurück").
import type { CustomerListItem, CustomerSearchKey, CustomerSort } from '../db/customer-search';
import { searchCustomers as searchCustomersSql } from '../db/customer-search';
import { accountExists } from '../db/interfaces';
import type { AppDeps } from './deps';
import { AppError, guarded } from './errors';
import { MAX_PAGE_LIMIT } from './status';

export type { CustomerListItem, CustomerSort } from '../db/customer-search';

export const DEFAULT_SEARCH_LIMIT = 50;
const MAX_QUERY_LENGTH = 200;

export interface CustomerSearchRequest {
  q?: string | undefined;
  sort?: string | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

export interface CustomerSearchResult {
  customers: CustomerListItem[];
  /** How many customers match `q` (every page together). */
  total: number;
  q: string;
  sort: CustomerSort;
  limit: number;
  /** The cursor of the following page, null on the last. */
  next: string | null;
  /** The cursor of the page before, null on the first. */
  prev: string | null;
}

const badInput = (message: string) => new AppError('invalid_input', message);
const badCursor = () =>
  badInput('cursor: not a cursor of this search (use `next` or `prev` of the previous page)');

type Direction = 'forward' | 'back';

const encode = (sort: CustomerSort, direction: Direction, k: CustomerSearchKey): string =>
  Buffer.from(
    JSON.stringify(['cs', sort, direction === 'back' ? 'b' : 'f', k.sortKey, k.email, k.id]),
  ).toString('base64url');

function decode(cursor: string, sort: CustomerSort): { key: CustomerSearchKey; direction: Direction } {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor();
  }
  if (!Array.isArray(v) || v.length !== 6) throw badCursor();
  const [tag, s, d, sortKey, email, id] = v as unknown[];
  if (tag !== 'cs' || s !== sort || (d !== 'f' && d !== 'b')) throw badCursor();
  if (typeof sortKey !== 'string' || typeof email !== 'string' || typeof id !== 'string') throw badCursor();
  if (!/^\d{1,19}$/.test(id)) throw badCursor();
  if (sort === 'value' && !/^-?\d{1,14}(\.\d{1,2})?$/.test(sortKey)) throw badCursor();
  return { key: { sortKey, email, id }, direction: d === 'b' ? 'back' : 'forward' };
}

function sortOf(sort: string | undefined): CustomerSort {
  if (sort === undefined || sort === '' || sort === 'value') return 'value';
  if (sort === 'name') return 'name';
  throw badInput('sort must be value or name');
}

async function search(
  deps: Pick<AppDeps, 'db'>,
  accountId: string,
  req: CustomerSearchRequest,
): Promise<CustomerSearchResult> {
  const limit = req.limit ?? DEFAULT_SEARCH_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT)
    throw badInput(`limit must be a whole number from 1 to ${MAX_PAGE_LIMIT}`);
  const q = (req.q ?? '').trim();
  if (q.length > MAX_QUERY_LENGTH) throw badInput(`q: at most ${MAX_QUERY_LENGTH} characters`);
  const sort = sortOf(req.sort);
  const from = req.cursor ? decode(req.cursor, sort) : undefined;
  if (!(await accountExists(deps.db.sql, accountId)))
    throw new AppError(
      'not_found',
      `account ${accountId} is unknown (it gets created by: sevsync interface add)`,
    );
  const page = await searchCustomersSql(deps.db.sql, accountId, { q, sort, limit, from });
  return {
    customers: page.customers,
    total: page.total,
    q,
    sort,
    limit,
    next: page.next ? encode(sort, 'forward', page.next) : null,
    prev: page.prev ? encode(sort, 'back', page.prev) : null,
  };
}

/** The account's customers matching `q`, sorted by `sort`, at most `limit` from `cursor` on. */
export const searchCustomers = guarded(search);
