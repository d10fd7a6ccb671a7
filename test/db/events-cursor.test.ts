import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChangeEvent } from '../../src/db/events';
import { accountEvents, globalEvents, lockAccountEvents } from '../../src/db/events';
import type { Tx } from '../../src/db/client';
import { randomId, testDb } from '../helpers/env';

// The global cursor under concurrent writers. A plain serial cursor skips an event whose transaction took
// its number first and committed last; the feed's cursor serves only transactions older than every one
// still running, so nothing committed late lands behind it. Per account the order is the seq order.

const db = testDb();
afterAll(() => db.close());

const emit = (tx: Tx, account: string, n: number, tag: string) =>
  tx`select sevsync_emit(${account}, ${JSON.stringify(
    Array.from({ length: n }, (_, i) => ({ type: 'import.finished', data: { tag, i } })),
  )}::jsonb)`;

/** Follows the global feed from `cursor` until it returns nothing; only the given accounts' events. */
async function drain(cursor: string | undefined, accounts: Set<string>) {
  const seen: ChangeEvent[] = [];
  let next = cursor;
  for (;;) {
    const page = await globalEvents(db.sql, next, 50);
    next = page.next;
    seen.push(...page.events.filter((e) => accounts.has(e.account)));
    if (page.events.length === 0) return { seen, next };
  }
}

describe('the global cursor', () => {
  it('does not pass an event whose transaction started first and commits last', async () => {
    const a = randomId('acct');
    const b = randomId('acct');
    const { next: start } = await drain(undefined, new Set());
    let releaseA!: () => void;
    const aMayCommit = new Promise<void>((r) => (releaseA = r));
    let aEmitted!: () => void;
    const aHasEmitted = new Promise<void>((r) => (aEmitted = r));
    const slow = db.sql.begin(async (tx) => {
      await emit(tx, a, 1, 'late');
      aEmitted();
      await aMayCommit;
    });
    await aHasEmitted;
    await db.sql.begin((tx) => emit(tx, b, 1, 'early'));
    // b's event is committed, but a transaction older than it still runs: nothing passes it yet.
    const early = await drain(start, new Set([a, b]));
    expect(early.seen).toEqual([]);
    releaseA();
    await slow;
    const late = await drain(early.next, new Set([a, b]));
    expect(late.seen.map((e) => [e.account, e.data['tag']])).toEqual([
      [a, 'late'],
      [b, 'early'],
    ]);
  });

  it('serves every committed event once, per account in seq order, to a reader following concurrent writers', async () => {
    const accounts = [randomId('acct'), randomId('acct'), randomId('acct')];
    const { next: start } = await drain(undefined, new Set());
    const committed = new Set<string>();
    let writing = true;
    const writer = async (w: number) => {
      for (let k = 0; k < 40; k++) {
        const account = accounts[(w + k) % accounts.length]!;
        const tag = `${w}-${k}`;
        const rollback = k % 9 === 4;
        await db.sql
          .begin(async (tx) => {
            // Some writers take the account's lock first, as the page write does; others write at once.
            if (k % 2 === 0) await lockAccountEvents(tx, account);
            await emit(tx, account, 1 + (k % 3), tag);
            await sleep(k % 4);
            if (rollback) throw new Error('rolled back');
          })
          .then(
            () => committed.add(tag),
            (err: unknown) => {
              // A writer that took its transaction id before waiting for the account is refused and retried.
              if ((err as { code?: string }).code === '40001') k -= 1;
              else if (!rollback) throw err;
            },
          );
      }
    };
    const followed: ChangeEvent[] = [];
    const reader = (async () => {
      let cursor = start;
      while (writing) {
        const page = await globalEvents(db.sql, cursor, 7);
        cursor = page.next;
        followed.push(...page.events.filter((e) => accounts.includes(e.account)));
        if (page.events.length === 0) await sleep(2);
      }
      followed.push(...(await drain(cursor, new Set(accounts))).seen);
    })();
    await Promise.all([0, 1, 2, 3].map(writer));
    writing = false;
    await reader;

    expect(new Set(followed.map((e) => e.id)).size).toBe(followed.length);
    expect(new Set(followed.map((e) => e.data['tag']))).toEqual(committed);
    for (const account of accounts) {
      const own = followed.filter((e) => e.account === account).map((e) => e.seq);
      expect(own).toEqual(own.map((_, i) => i + 1));
      const direct = (await accountEvents(db.sql, account, 0, 1000)).events.map((e) => e.id);
      expect(direct).toEqual(followed.filter((e) => e.account === account).map((e) => e.id));
    }
  });
});
