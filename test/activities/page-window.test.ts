import { describe, expect, it } from 'vitest';
import type { BatchKey } from '../../src/activities/page-window';
import { HOLD_MS, PageWindow } from '../../src/activities/page-window';
import type { Page } from '../../src/sevdesk/client';
import { Invoice } from '../../src/sevdesk/schema';
import { fixtureObjects } from '../sevdesk/helpers/test-server';

// The pages an import fetched ahead: handed from one batch of a walk to the next, classified once, dropped
// when they wait too long or when a worker holds too many.

const invoice = Invoice.parse(fixtureObjects('invoice_list.json')[0]);
const pageOf = (id: string): Page<Invoice> => ({
  objects: [{ ...invoice, id }],
  invalid: [],
  rawCount: 1,
  total: 3000,
});
const walk = (importId: string, over: Partial<BatchKey> = {}): BatchKey => ({
  accountId: 'acct',
  importId,
  pass: 1,
  baseUrl: 'http://sevdesk.test/api/v1',
  tokenCiphertext: 'token-1',
  ...over,
});

/** A fake sevDesk list: records the offsets asked for, answers a page per offset. */
function lister(fail: ReadonlySet<number> = new Set()) {
  const asked: number[] = [];
  const fetch = (offset: number) => {
    asked.push(offset);
    return fail.has(offset)
      ? Promise.reject(new Error(`offset ${offset} failed`))
      : Promise.resolve(pageOf(`inv-${offset}`));
  };
  return { asked, fetch };
}

/** A clock the test moves. */
function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('PageWindow', () => {
  it("hands a batch's pages ahead to the walk's next batch, classified once", async () => {
    const window = new PageWindow(8);
    const first = lister();
    const a = window.batch(walk('imp-1'), 'EUR', first.fetch);
    await a.fetch(0);
    const ahead = await a.fetch(980);
    a.done(0);
    // Classified once: the same classification, whichever batch asks for it.
    const made = a.classified(980, ahead, 'EUR');
    expect(made.objectIds).toEqual(['inv-980']);
    a.close(true);
    expect(window.size).toBe(1);

    const next = lister();
    const b = window.batch(walk('imp-1'), 'EUR', next.fetch);
    expect(await b.fetch(980)).toBe(ahead);
    expect(next.asked).toEqual([]);
    expect(b.classified(980, ahead, 'EUR')).toBe(made);
    // Another base currency is another classification.
    expect(b.classified(980, ahead, 'CHF')).not.toBe(made);
    b.close(false);
    expect(window.size).toBe(0);
  });

  it('keeps walks, passes and tokens apart', async () => {
    const window = new PageWindow(8);
    const a = window.batch(walk('imp-1'), 'EUR', lister().fetch);
    void a.fetch(980);
    a.close(true);
    for (const other of [
      walk('imp-2'),
      walk('imp-1', { pass: 2 }),
      walk('imp-1', { tokenCiphertext: 't2' }),
    ]) {
      const l = lister();
      await window.batch(other, 'EUR', l.fetch).fetch(980);
      expect(l.asked).toEqual([980]);
    }
    expect(window.size).toBe(1);
  });

  it('asks again for a handed-over page whose request failed', async () => {
    const window = new PageWindow(8);
    const a = window.batch(walk('imp-1'), 'EUR', lister(new Set([980])).fetch);
    void a.fetch(980);
    a.close(true);
    const retry = lister();
    const page = await window.batch(walk('imp-1'), 'EUR', retry.fetch).fetch(980);
    expect(page.objects.map((o) => o.id)).toEqual(['inv-980']);
    expect(retry.asked).toEqual([980]);
  });

  it('drops a held page once it waited longer than HOLD_MS, and a touched one later', async () => {
    const t = clock();
    const window = new PageWindow(8, HOLD_MS, t.now);
    window.hold(walk('imp-1'), 0, Promise.resolve(pageOf('first')));
    window.hold(walk('imp-2'), 0, Promise.resolve(pageOf('first')));
    t.advance(HOLD_MS - 1);
    window.touch(walk('imp-2'), 0);
    t.advance(2);
    const late = lister();
    expect((await window.batch(walk('imp-1'), 'EUR', late.fetch).fetch(0)).objects[0]?.id).toBe('inv-0');
    expect(late.asked).toEqual([0]);
    const touched = lister();
    expect((await window.batch(walk('imp-2'), 'EUR', touched.fetch).fetch(0)).objects[0]?.id).toBe('first');
    expect(touched.asked).toEqual([]);
  });

  it('holds at most its bound, dropping the page that waited longest', async () => {
    const t = clock();
    const window = new PageWindow(2, HOLD_MS, t.now);
    for (const id of ['imp-1', 'imp-2', 'imp-3']) {
      window.hold(walk(id), 0, Promise.resolve(pageOf(id)));
      t.advance(10);
    }
    expect(window.size).toBe(2);
    const oldest = lister();
    await window.batch(walk('imp-1'), 'EUR', oldest.fetch).fetch(0);
    expect(oldest.asked).toEqual([0]);
    const kept = lister();
    expect((await window.batch(walk('imp-3'), 'EUR', kept.fetch).fetch(0)).objects[0]?.id).toBe('imp-3');
    expect(kept.asked).toEqual([]);
  });
});
