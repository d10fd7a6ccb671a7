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

/**
 * Every page of a list with up to `concurrency` requests in flight, in offset order. The first page comes
 * alone and asks for the count (`countAll`): for most accounts it is the whole list, one request as in
 * walkPages. The pages up to that count are then asked for together (without a usable count: `concurrency`
 * at a time), and while the last page read is still full (the list grew, or the count was low) the walk goes
 * on. A page short although a later page has rows is read once more (rows moved, or a glitch) and kept either
 * way: the walk never ends before the count, and a row the short page lost is usually on its neighbour. A server that
 * ignores `limit` (more rows than asked) is walked one page at a time from there, as walkPages does.
 * `concurrency` 1 is walkPages.
 */
export async function collectPages<T>(
  fetchPage: (offset: number, limit: number, countAll: boolean) => Promise<Page<T>>,
  opts: { limit?: number; concurrency?: number } = {},
): Promise<Page<T>[]> {
  const limit = opts.limit ?? MAX_PAGE_LIMIT;
  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? 1));
  const pages: Page<T>[] = [];
  const sequentialFrom = async (offset: number) => {
    for await (const { page } of walkPages((o, l) => fetchPage(o, l, false), { limit, startOffset: offset }))
      pages.push(page);
    return pages;
  };
  if (concurrency === 1) return sequentialFrom(0);
  const first = await fetchPage(0, limit, true);
  pages.push(first);
  if (first.rawCount < limit) return pages;
  if (first.rawCount > limit) return sequentialFrom(first.rawCount);
  // A count in the billions is a glitch, not a plan: batches are bounded either way.
  const maxBatch = concurrency * 4;
  let total = first.total !== null && Number.isFinite(first.total) ? first.total : null;
  let next = limit;
  for (;;) {
    const offsets: number[] = [];
    do {
      offsets.push(next);
      next += limit;
    } while (offsets.length < (total === null ? concurrency : maxBatch) && (total === null || next < total));
    const batch = await inOrder(offsets, concurrency, (o) => fetchPage(o, limit, false));
    // Short with rows after it: read again (pages past the end of a count that was high stay as they are).
    let lastWithRows = batch.length - 1;
    while (lastWithRows >= 0 && (batch[lastWithRows] as Page<T>).rawCount === 0) lastWithRows -= 1;
    const again = offsets.flatMap((o, i) =>
      i < lastWithRows && (batch[i] as Page<T>).rawCount < limit ? [{ i, o }] : [],
    );
    const reread = await inOrder(again, concurrency, ({ o }) => fetchPage(o, limit, false));
    again.forEach(({ i }, k) => (batch[i] = reread[k] as Page<T>));
    pages.push(...batch);
    const last = batch[batch.length - 1] as Page<T>;
    if (last.rawCount < limit) return pages;
    if (last.rawCount > limit) return sequentialFrom((offsets[offsets.length - 1] ?? 0) + last.rawCount);
    // Still full at the count: it was low, or the list grew; from here a window at a time.
    if (total !== null && next >= total) total = null;
  }
}

/** `fn` over `items` with at most `concurrency` calls running, results in the items' order. */
async function inOrder<A, B>(
  items: readonly A[],
  concurrency: number,
  fn: (item: A, index: number) => Promise<B>,
): Promise<B[]> {
  const out = new Array<B>(items.length);
  let k = 0;
  const lane = async () => {
    while (k < items.length) {
      const i = k++;
      out[i] = await fn(items[i] as A, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  return out;
}
