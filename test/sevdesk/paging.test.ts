import { describe, expect, it } from 'vitest';
import { collectPages, dedupeById, walkPages } from '../../src/sevdesk/paging';
import { invoices, useScriptedSevdesk } from './helpers/client';
import { json } from './helpers/test-server';

// Walking a list page by page (src/sevdesk/paging.ts): where a walk ends, and the pages after the first
// asked for together.

const { server, makeClient } = useScriptedSevdesk();

describe('paging helpers', () => {
  const makeInvoice = (n: number) => ({ ...invoices[0], id: String(140_000_000 + n) });

  it('walks until a short page', async () => {
    const all = Array.from({ length: 7 }, (_, i) => makeInvoice(i));
    server.fallback((req, res) => {
      const q = new URL(req.url ?? '/', 'http://x').searchParams;
      const offset = Number(q.get('offset') ?? 0);
      const limit = Number(q.get('limit') ?? 100);
      return json(200, { objects: all.slice(offset, offset + limit) })(req, res);
    });
    const { client } = makeClient();
    const seen: string[] = [];
    const offsets: number[] = [];
    for await (const { page, offset } of walkPages((o, l) => client.listInvoices({ offset: o, limit: l }), {
      limit: 3,
    })) {
      offsets.push(offset);
      seen.push(...page.objects.map((i) => i.id));
    }
    expect(offsets).toEqual([0, 3, 6]);
    expect(seen).toEqual(all.map((i) => i.id));
    expect(client.requestCount()).toBe(3);
  });

  it('stops on an empty page after an exact multiple, and resumes from startOffset', async () => {
    const pages = [3, 3, 0];
    const calls: [number, number][] = [];
    const fetchPage = async (offset: number, limit: number) => {
      calls.push([offset, limit]);
      const n = pages[calls.length - 1] ?? 0;
      return { objects: [], invalid: [], rawCount: n, total: null };
    };
    for await (const _ of walkPages(fetchPage, { limit: 3, startOffset: 30 })) {
      // drain
    }
    expect(calls).toEqual([
      [30, 3],
      [33, 3],
      [36, 3],
    ]);
  });

  it('counts invalid rows towards the page size so a bad row cannot end the walk early', async () => {
    const sizes = [
      { ok: 2, bad: 1 },
      { ok: 1, bad: 0 },
    ];
    let call = 0;
    const pagesSeen: number[] = [];
    for await (const { page } of walkPages(
      async () => {
        const s = sizes[call++] ?? { ok: 0, bad: 0 };
        return {
          objects: Array.from({ length: s.ok }, () => ({})),
          invalid: [],
          rawCount: s.ok + s.bad,
          total: null,
        };
      },
      { limit: 3 },
    )) {
      pagesSeen.push(page.rawCount);
    }
    expect(pagesSeen).toEqual([3, 1]);
  });

  it('dedupeById keeps the first occurrence, also across pages', () => {
    const seen = new Set<string>();
    expect(
      dedupeById(
        [
          { id: '1', v: 'a' },
          { id: '2', v: 'b' },
          { id: '1', v: 'c' },
        ],
        seen,
      ),
    ).toEqual([
      { id: '1', v: 'a' },
      { id: '2', v: 'b' },
    ]);
    expect(
      dedupeById(
        [
          { id: '2', v: 'd' },
          { id: '3', v: 'e' },
        ],
        seen,
      ),
    ).toEqual([{ id: '3', v: 'e' }]);
    expect([...seen]).toEqual(['1', '2', '3']);
  });

  it('rejects a limit outside 1..1000', async () => {
    const gen = walkPages(async () => ({ objects: [], invalid: [], rawCount: 0, total: null }), {
      limit: 1001,
    });
    await expect(gen.next()).rejects.toBeInstanceOf(RangeError);
  });
});

describe('collectPages: the pages after the first asked for together', () => {
  /** A list of `n` rows served `limit` at a time; `total` is what the count says (default: the truth). */
  const list = (n: number, opts: { total?: number | null; short?: Map<number, number> } = {}) => {
    const calls: { offset: number; countAll: boolean }[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const fetchPage = async (offset: number, limit: number, countAll: boolean) => {
      calls.push({ offset, countAll });
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      // The page arrives on a later turn of the event loop: the requests of a batch overlap.
      await new Promise((r) => setImmediate(r));
      inFlight -= 1;
      const cut = opts.short?.get(offset);
      if (cut !== undefined) opts.short?.delete(offset);
      const rows = Array.from({ length: Math.max(0, Math.min(limit, n - offset)) }, (_, i) => ({
        id: String(offset + i),
      })).slice(0, cut ?? limit);
      const total = opts.total === undefined ? n : opts.total;
      return { objects: rows, invalid: [], rawCount: rows.length, total: countAll ? total : null };
    };
    return { fetchPage, calls, maxInFlight: () => maxInFlight };
  };
  const ids = (pages: { objects: { id: string }[] }[]) => pages.flatMap((p) => p.objects.map((o) => o.id));
  const upTo = (n: number) => Array.from({ length: n }, (_, i) => String(i));

  it('one request for a list that fits one page, with the count asked for', async () => {
    const l = list(7);
    expect(ids(await collectPages(l.fetchPage, { limit: 10, concurrency: 4 }))).toEqual(upTo(7));
    expect(l.calls).toEqual([{ offset: 0, countAll: true }]);
  });

  it('the rest up to the count at once, at most `concurrency` in flight, in offset order', async () => {
    const l = list(95);
    const pages = await collectPages(l.fetchPage, { limit: 10, concurrency: 4 });
    expect(ids(pages)).toEqual(upTo(95));
    expect(l.calls.map((c) => c.offset)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(l.maxInFlight()).toBe(4);
  });

  it('walks on past a count that was too low, and ends at a count that was too high', async () => {
    const low = list(55, { total: 12 });
    expect(ids(await collectPages(low.fetchPage, { limit: 10, concurrency: 3 }))).toEqual(upTo(55));
    const high = list(25, { total: 1_000_000_000 });
    const pages = await collectPages(high.fetchPage, { limit: 10, concurrency: 3 });
    expect(ids(pages)).toEqual(upTo(25));
    // Bounded by the batch, not by the count's billion rows.
    expect(high.calls.length).toBeLessThanOrEqual(1 + 3 * 4);
  });

  it('without a count: a window at a time until a short page', async () => {
    const l = list(42, { total: null });
    expect(ids(await collectPages(l.fetchPage, { limit: 10, concurrency: 2 }))).toEqual(upTo(42));
    expect(l.calls.map((c) => c.offset)).toEqual([0, 10, 20, 30, 40]);
  });

  it('a page short before the last is read again, and the walk does not end there', async () => {
    const l = list(50, { short: new Map([[20, 3]]) });
    expect(ids(await collectPages(l.fetchPage, { limit: 10, concurrency: 4 }))).toEqual(upTo(50));
    expect(l.calls.filter((c) => c.offset === 20)).toHaveLength(2);
  });

  it('concurrency 1 is walkPages: no count asked for, one page at a time', async () => {
    const l = list(25);
    expect(ids(await collectPages(l.fetchPage, { limit: 10, concurrency: 1 }))).toEqual(upTo(25));
    expect(l.calls).toEqual([
      { offset: 0, countAll: false },
      { offset: 10, countAll: false },
      { offset: 20, countAll: false },
    ]);
    expect(l.maxInFlight()).toBe(1);
  });

  it('a failed page fails the walk', async () => {
    const l = list(40);
    const failing = async (o: number, lim: number, c: boolean) => {
      if (o === 20) throw new Error('boom');
      return l.fetchPage(o, lim, c);
    };
    await expect(collectPages(failing, { limit: 10, concurrency: 4 })).rejects.toThrow('boom');
  });
});
