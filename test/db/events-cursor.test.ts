import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeEvent } from '../../src/db/events';
import { accountEvents, globalEvents, globalHead, lockAccountEvents } from '../../src/db/events';
import type { Tx } from '../../src/db/client';
import { randomId } from '../helpers/env';
import type { PrivateDb } from '../helpers/private-db';
import { privateDatabase } from '../helpers/private-db';

// The global cursor under concurrent writers. A plain serial cursor skips an event whose transaction took
// its number first and committed last; the feed's cursor serves only transactions older than every one
// still running, so nothing committed late lands behind it. Per account the order is the seq order.

// A database of its own: no other test's events to read past. The watermark (the oldest running
// transaction) is the whole server's, so another test's transaction may hold the feed back for a moment:
// the reads wait for what they expect instead of taking one empty page for the end.
let db: PrivateDb;
beforeAll(async () => {
  db = await privateDatabase();
});
afterAll(() => db.drop());

const emit = (tx: Tx, account: string, n: number, tag: string) =>
  tx`select sevsync_emit(${account}, ${JSON.stringify(
    Array.from({ length: n }, (_, i) => ({ type: 'import.finished', data: { tag, i } })),
  )}::jsonb)`;

/** Follows the global feed from `cursor` until `done` says so (or 30 s pass); the given accounts' events. */
async function follow(cursor: string, accounts: Set<string>, done: (seen: ChangeEvent[]) => boolean) {
  const seen: ChangeEvent[] = [];
  let next = cursor;
  const until = Date.now() + 30_000;
  while (!done(seen) && Date.now() < until) {
    const page = await globalEvents(db.sql, next, 50);
    next = page.next;
    seen.push(...page.events.filter((e) => accounts.has(e.account)));
    if (page.events.length === 0) await sleep(20);
  }
  return { seen, next };
}

describe('the global cursor', () => {
  it('does not pass an event whose transaction started first and commits last', async () => {
    const a = randomId('acct');
    const b = randomId('acct');
    const start = await globalHead(db.sql);
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
    const early = await globalEvents(db.sql, start, 50);
    expect(early.events.filter((e) => e.account === a || e.account === b)).toEqual([]);
    releaseA();
    await slow;
    const late = await follow(early.next, new Set([a, b]), (seen) => seen.length >= 2);
    expect(late.seen.map((e) => [e.account, e.data['tag']])).toEqual([
      [a, 'late'],
      [b, 'early'],
    ]);
  });

  it('serves every committed event once, per account in seq order, to a reader following concurrent writers', async () => {
    const accounts = [randomId('acct'), randomId('acct'), randomId('acct')];
    const start = await globalHead(db.sql);
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
      const expected = () => [...committed].length;
      const tagsSeen = (seen: ChangeEvent[]) =>
        new Set([...followed, ...seen].map((e) => e.data['tag'])).size >= expected();
      followed.push(...(await follow(cursor, new Set(accounts), tagsSeen)).seen);
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
