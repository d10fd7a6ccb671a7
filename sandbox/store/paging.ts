export interface Page<T> {
  items: T[];
  /** Number of all matches; only computed when asked for (countAll). */
  total?: number;
}

export interface PageRequest {
  offset: number;
  limit: number;
  countAll: boolean;
}

/** A filtered scan over indices 0..length-1 that stops early unless the total is wanted. */
export function scanPage<T>(
  length: number,
  match: (i: number) => boolean,
  page: PageRequest,
  build: (i: number) => T,
): Page<T> {
  const items: T[] = [];
  let seen = 0;
  for (let i = 0; i < length; i++) {
    if (!match(i)) continue;
    if (seen >= page.offset && items.length < page.limit) items.push(build(i));
    seen++;
    if (!page.countAll && items.length >= page.limit) break;
  }
  return page.countAll ? { items, total: seen } : { items };
}

/**
 * A page of the items of `owners` owners in owner order, each owner's list built by `list`. Without `match`
 * it is positional: `prefix[o]` (items of the owners before o) finds the first owner by binary search.
 */
export function pagePerOwner<T>({
  owners,
  prefix,
  page,
  list,
  match,
}: {
  owners: number;
  prefix: Uint32Array;
  page: PageRequest;
  list: (owner: number) => T[];
  match?: (item: T) => boolean;
}): Page<T> {
  const n = owners;
  if (!match) {
    const total = prefix[n] ?? 0;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((prefix[mid + 1] ?? 0) <= page.offset) lo = mid + 1;
      else hi = mid;
    }
    const items: T[] = [];
    let skip = page.offset - (prefix[lo] ?? 0);
    for (let c = lo; c < n && items.length < page.limit; c++) {
      for (const item of list(c)) {
        if (skip > 0) {
          skip--;
          continue;
        }
        if (items.length < page.limit) items.push(item);
      }
    }
    return page.countAll ? { items, total } : { items };
  }
  const items: T[] = [];
  let seen = 0;
  for (let c = 0; c < n; c++) {
    for (const item of list(c)) {
      if (!match(item)) continue;
      if (seen >= page.offset && items.length < page.limit) items.push(item);
      seen++;
    }
    if (!page.countAll && items.length >= page.limit) break;
  }
  return page.countAll ? { items, total: seen } : { items };
}
