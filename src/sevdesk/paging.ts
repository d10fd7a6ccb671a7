import type { SevdeskSchemaError } from './errors';

/** One list reply: the objects that passed their schema, the ones that did not, and the raw row count. */
export interface Page<T> {
  objects: T[];
  invalid: InvalidObject[];
  /** Rows in the reply before validation; paging decisions use this, never `objects.length`. */
  rawCount: number;
  /** Only with `countAll=true`; sevDesk sends a string or an integer, normalised here to a number. */
  total: number | null;
}

export interface InvalidObject {
  /** The object's id if it was readable (a string or number `id`), else null. */
  id: string | null;
  error: SevdeskSchemaError;
}

export const MAX_PAGE_LIMIT = 1000;

/**
 * A page shorter than the limit although sevDesk counts more rows beyond it: a glitch (a proxy, a replica
 * lagging), never the end of the list. Retryable: the walk reads the same offset again.
 */
export class SevdeskShortPageError extends Error {
  override readonly name = 'SevdeskShortPageError';
  readonly retryable = true;
  constructor(
    readonly offset: number,
    readonly rawCount: number,
    readonly total: number,
  ) {
    super(
      `sevDesk sent ${rawCount} rows at offset ${offset} although it counts ${total}: the list is incomplete, reading it again`,
    );
  }
}

/**
 * Walks offset pages until a short page. sevDesk's default order is undocumented, so rows can shift between
 * pages while data changes: callers de-duplicate by id (see dedupeById) and reconcile periodically.
 */
export async function* walkPages<T>(
  fetchPage: (offset: number, limit: number) => Promise<Page<T>>,
  opts: {
    limit?: number;
    startOffset?: number;
    /**
     * The pages carry `total` (countAll): a page short of it is read again after `confirmDelayMs`; a
     * different answer goes on from there, the same answer twice is taken as the end (sevDesk's count is
     * off) and reported to `onShortfall`. Without `confirmDelayMs` a short page throws SevdeskShortPageError.
     */
    checkTotal?: boolean;
    confirmDelayMs?: number;
    onShortfall?: (e: SevdeskShortPageError) => void;
  } = {},
): AsyncGenerator<{ page: Page<T>; offset: number }> {
  const limit = opts.limit ?? MAX_PAGE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new RangeError(`limit must be an integer from 1 to ${MAX_PAGE_LIMIT}, got ${limit}`);
  }
  let offset = opts.startOffset ?? 0;
  for (;;) {
    let page = await fetchPage(offset, limit);
    let short = page.rawCount < limit;
    if (short && opts.checkTotal && page.total !== null && offset + page.rawCount < page.total) {
      const shortfall = new SevdeskShortPageError(offset, page.rawCount, page.total);
      if (opts.confirmDelayMs === undefined) throw shortfall;
      await new Promise((r) => setTimeout(r, opts.confirmDelayMs));
      const again = await fetchPage(offset, limit);
      if (again.rawCount === page.rawCount) opts.onShortfall?.(shortfall);
      page = again;
      short = page.rawCount < limit;
    }
    yield { page, offset };
    if (short) return;
    // rawCount, not limit: a server that ignores `limit` and returns more must not make us skip rows.
    offset += page.rawCount;
  }
}

/**
 * Keeps the first occurrence of each id, in order. Pass the same `seen` set across pages to de-duplicate a
 * whole walk; ids of returned items are added to it.
 */
export function dedupeById<T extends { id: string }>(items: Iterable<T>, seen: Set<string> = new Set()): T[] {
  const out: T[] = [];
  for (const item of items) {
    if (seen.has(item.id)) continue;
    seen.add(item.id);
    out.push(item);
  }
  return out;
}
