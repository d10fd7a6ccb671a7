// What writing pages did, and the one place where the figures of several pages are added up.
import Decimal from 'decimal.js';
import type { SyncCounts } from '../shared';

/** The figures of one page write (or of several, added): plain JSON, decimal sums as two-decimal strings. */
export interface PageStats {
  written: number;
  /** Shown invoices of the page with a customer, and without one. */
  assigned: number;
  unassigned: number;
  invalid: number;
  openSum: string;
  paidSum: string;
  unassignedReasons: Record<string, number>;
}

export const emptyPageStats = (): PageStats => ({
  written: 0,
  assigned: 0,
  unassigned: 0,
  invalid: 0,
  openSum: '0.00',
  paidSum: '0.00',
  unassignedReasons: {},
});

/** `total` with the figures of `page` added (the walk's ImportStats keep their other fields). */
export function addPageStats<T extends PageStats>(total: T, page: PageStats): T {
  const reasons = { ...total.unassignedReasons };
  for (const [k, n] of Object.entries(page.unassignedReasons)) reasons[k] = (reasons[k] ?? 0) + n;
  return {
    ...total,
    written: total.written + page.written,
    assigned: total.assigned + page.assigned,
    unassigned: total.unassigned + page.unassigned,
    invalid: total.invalid + page.invalid,
    openSum: new Decimal(total.openSum).plus(page.openSum).toFixed(2),
    paidSum: new Decimal(total.paidSum).plus(page.paidSum).toFixed(2),
    unassignedReasons: reasons,
  };
}

/** Counts a written page into a sync cycle's counts; `pages` 0 for objects read by id rather than listed. */
export function countPage(
  counts: SyncCounts,
  page: { fetched: number; written: number; invalid: number },
  pages = 1,
): void {
  counts.pages += pages;
  counts.fetched += page.fetched;
  counts.written += page.written;
  counts.invalid += page.invalid;
}
