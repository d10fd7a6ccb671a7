// The pages of an import fetched ahead of the one being written, and their classification. A batch of
// importPages asks for a window of pages ahead; what it asked for but did not write when its budget ran out
// is held for the walk's next batch, if that runs on this worker soon enough (docs/architecture.md, "Bulk
// import"). Held pages expire, and a worker holds a bounded number of them: a page not taken over is simply
// fetched again by the batch that needs it.
import type { ClassifiedPage } from '../domain/page';
import { classifyPage } from '../domain/page';
import type { Page } from '../sevdesk/client';
import type { Invoice } from '../sevdesk/schema';

/** How long a held page waits for the walk's next batch. */
export const HOLD_MS = 30_000;
/** Walks whose pages one worker holds at once, at most (times the window); past that the oldest page goes. */
export const HELD_WALKS = 16;

/** One batch's pages: a walk's pass, read with one token from one address (a new token reads afresh). */
export interface BatchKey {
  accountId: string;
  importId: string;
  pass: number;
  baseUrl: string;
  tokenCiphertext: string;
}

const keyOf = (b: BatchKey, offset: number): string =>
  `${b.accountId}|${b.importId}|${b.pass}|${offset}|${b.baseUrl}|${b.tokenCiphertext}`;

/** A page asked for ahead, with its classification once made. */
class AheadPage {
  /** When it was last handed over (held pages only). */
  at = 0;
  private made: { page: Page<Invoice>; baseCurrency: string; result: ClassifiedPage } | undefined;

  constructor(public page: Promise<Page<Invoice>>) {
    // Awaited in order by its batch; one that fails ahead of time fails its own page then, not the batch now.
    page.catch(() => {});
  }

  /** The page's classification, made once per page and base currency. */
  classify(page: Page<Invoice>, baseCurrency: string): ClassifiedPage {
    const made = this.made;
    if (made && made.page === page && made.baseCurrency === baseCurrency) return made.result;
    const result = classifyPage(page, baseCurrency);
    this.made = { page, baseCurrency, result };
    return result;
  }

  /**
   * Classified once it arrives, on a later turn of the event loop (the page being written goes first). A page
   * that fails to arrive, or to classify, is left to its own turn, which reports it.
   */
  classifyWhenArrived(baseCurrency: string): void {
    this.page.then(
      (p) =>
        setImmediate(() => {
          try {
            this.classify(p, baseCurrency);
          } catch {
            // Classified again (and the error thrown) when the page is written.
          }
        }),
      () => undefined,
    );
  }
}

/** The pages a worker holds between the batches of its walks (one per worker: createImportActivities). */
export class PageWindow {
  private readonly held = new Map<string, AheadPage>();

  constructor(
    /** Pages held at most. */
    readonly bound: number,
    private readonly holdMs = HOLD_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Pages held now (tests, metrics). */
  get size(): number {
    return this.held.size;
  }

  /** A page asked for before the walk's first batch (beginImport), held for it. */
  hold(batch: BatchKey, offset: number, page: Promise<Page<Invoice>>): void {
    this.put(keyOf(batch, offset), new AheadPage(page));
  }

  /** The held page's wait starts again (loading the contacts may take longer than HOLD_MS). */
  touch(batch: BatchKey, offset: number): void {
    const entry = this.held.get(keyOf(batch, offset));
    if (entry) entry.at = this.now();
  }

  /** A batch of one walk's pass: takes over the pages held for it; the expired ones are dropped first. */
  batch(key: BatchKey, baseCurrency: string, fresh: (offset: number) => Promise<Page<Invoice>>): WindowBatch {
    const now = this.now();
    for (const [k, v] of this.held) if (now - v.at > this.holdMs) this.held.delete(k);
    return new WindowBatch(this, key, baseCurrency, fresh);
  }

  /** @internal WindowBatch's hand-over. */
  put(key: string, entry: AheadPage): void {
    entry.at = this.now();
    this.held.set(key, entry);
    while (this.held.size > this.bound) this.dropOldest();
  }

  /** @internal WindowBatch's take-over. */
  take(key: string): AheadPage | undefined {
    const entry = this.held.get(key);
    this.held.delete(key);
    return entry;
  }

  private dropOldest(): void {
    let oldest: [string, AheadPage] | undefined;
    for (const e of this.held) if (!oldest || e[1].at < oldest[1].at) oldest = e;
    if (oldest) this.held.delete(oldest[0]);
  }
}

/** The pages of one importPages call, by offset: asked for ahead, written in order, the rest handed over. */
export class WindowBatch {
  private readonly ahead = new Map<number, AheadPage>();

  constructor(
    private readonly window: PageWindow,
    private readonly key: BatchKey,
    private readonly baseCurrency: string,
    private readonly fresh: (offset: number) => Promise<Page<Invoice>>,
  ) {}

  /** The page at `offset`: ahead already, taken over from the batch before, or asked for now. */
  fetch(offset: number): Promise<Page<Invoice>> {
    let entry = this.ahead.get(offset);
    if (!entry) {
      const held = this.window.take(keyOf(this.key, offset));
      if (held) {
        // Asked for by the batch before: taken over (asked again if that request failed).
        held.page = held.page.catch(() => this.fresh(offset));
        held.page.catch(() => {});
        entry = held;
      } else entry = new AheadPage(this.fresh(offset));
      // Classified as soon as it arrives, while the page before it is being written.
      entry.classifyWhenArrived(this.baseCurrency);
      this.ahead.set(offset, entry);
    }
    return entry.page;
  }

  /** The classification of the page fetched at `offset`: made ahead, or now. */
  classified(offset: number, page: Page<Invoice>, baseCurrency: string): ClassifiedPage {
    const entry = this.ahead.get(offset);
    return entry ? entry.classify(page, baseCurrency) : classifyPage(page, baseCurrency);
  }

  /** The page at `offset` is written: its batch lets go of it. */
  done(offset: number): void {
    this.ahead.delete(offset);
  }

  /** The batch ends: with `handOver`, the pages still ahead are held for the walk's next batch. */
  close(handOver: boolean): void {
    if (handOver) for (const [offset, entry] of this.ahead) this.window.put(keyOf(this.key, offset), entry);
    this.ahead.clear();
  }
}
