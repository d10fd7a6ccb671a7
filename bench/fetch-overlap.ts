import type { RequestTiming } from './sandbox-host';

// How an import's page fetches overlap, from the sandbox's own request times (bench/sandbox-host.ts: arrival
// of a request to the last byte of its answer, on the sandbox's clock, which is the machine's, as Temporal's
// history times are). With a window of W pages, the import asks for page k + W when page k is written (the
// window then has room), so that request's arrival marks the end of page k's write; the write of page k
// began when both its answer was there and page k - 1 was written. One page at a time (W = 1) this is the
// time from one answer to the next request.

export interface FetchOverlap {
  /** Pages of invoices the import asked for (first request per offset) in its span. */
  pages: number;
  /** Server side of a page request: arrival to the last byte of the answer, mean ms. */
  fetchMs: number | null;
  /** Sum of the page fetches' times over the import's span: the mean number of page fetches in flight. */
  fetchesInFlight: number;
  /** The import's span over its pages, ms: what one page costs in wall time. */
  pageMs: number;
  /**
   * After a page's answer (and the previous page's write): until the request the freed window slot sends,
   * mean ms per page. Parsing, validating, writing and checkpointing the page, and at the end of an
   * importPages call the hand-over to the next one. Null with fewer than window + 1 pages.
   */
  writeMs: number | null;
  /** The writer waiting for a page's answer after writing the one before, mean ms per page. */
  waitMs: number | null;
}

export function fetchOverlap(
  timings: RequestTiming[],
  span: { from: number; to: number },
  window: number,
  pageSize: number,
): FetchOverlap {
  const seen = new Set<number>();
  const pages = timings
    .filter(
      (t) =>
        t.path === '/Invoice' &&
        t.limit === pageSize &&
        t.status === 200 &&
        t.startMs >= span.from - 1_000 &&
        t.startMs <= span.to,
    )
    .sort((a, b) => a.startMs - b.startMs)
    .filter((t) => {
      const o = t.offset ?? 0;
      if (seen.has(o)) return false;
      seen.add(o);
      return true;
    })
    .sort((a, b) => (a.offset ?? 0) - (b.offset ?? 0));
  const spanMs = Math.max(1, span.to - span.from);
  const inSpan = (t: RequestTiming) =>
    Math.max(0, Math.min(t.endMs, span.to) - Math.max(t.startMs, span.from));
  const fetches = pages.map((t) => t.endMs - t.startMs);
  // End of page k's write: the arrival of the request for page k + window.
  const writes: number[] = [];
  const waits: number[] = [];
  let prevEnd: number | null = null;
  for (let k = 0; k + window < pages.length; k++) {
    const answered = (pages[k] as RequestTiming).endMs;
    const began = prevEnd === null ? answered : Math.max(answered, prevEnd);
    const end = (pages[k + window] as RequestTiming).startMs;
    writes.push(end - began);
    if (prevEnd !== null) waits.push(began - prevEnd);
    prevEnd = end;
  }
  const avg = (xs: number[]) => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);
  return {
    pages: pages.length,
    fetchMs: avg(fetches),
    fetchesInFlight: pages.reduce((a, t) => a + inSpan(t), 0) / spanMs,
    pageMs: pages.length > 0 ? spanMs / pages.length : 0,
    writeMs: avg(writes),
    waitMs: avg(waits),
  };
}
