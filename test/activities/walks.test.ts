// Walks that know when they are done (docs/architecture.md, "Invariants"), on the real PostgreSQL and the
// sandbox: a short, empty or shuffled page never ends a walk early, and a reconcile removes only what is
// provably gone.
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportRef, ImportStats } from '../../src/activities/bulk-import';
import { HOLD_MIN } from '../../src/activities/reconcile';
import { confirmHeldSweep, heldSweep } from '../../src/db/reconcile';
import type { Sandbox } from '../../sandbox';
import { startSandbox } from '../../sandbox';
import { closeDefaultDispatchers } from '../../src/sevdesk/client';
import { ErrorTypes } from '../../src/shared';
import { pointInterfaceAt } from '../helpers/accounts';
import { randomId, TEST_SECRET_KEY, testDb } from '../helpers/env';
import { activityEnv } from './activity-env';

const db = testDb();
const sandboxes: Sandbox[] = [];
// 2,600 invoices: three import pages, so that a glitch can hit one in the middle.
const INVOICES = 2600;

async function sandbox(seed: number): Promise<Sandbox> {
  const sb = await startSandbox({ seed, data: { invoices: INVOICES } });
  sandboxes.push(sb);
  return sb;
}

afterAll(async () => {
  await Promise.all(sandboxes.map((s) => s.close()));
  await db.close();
  await closeDefaultDispatchers();
});

async function account(sb: Sandbox): Promise<string> {
  const accountId = randomId('acct');
  await pointAt(accountId, sb, true);
  return accountId;
}

const pointAt = (accountId: string, sb: Sandbox, insert: boolean) =>
  pointInterfaceAt(db.sql, TEST_SECRET_KEY, accountId, sb, { insert });

const { acts, run } = activityEnv(db.sql);

const noPause = () => {};

/** What the bulk import workflow and Temporal's retries do, activity by activity; records retried failures. */
async function walk(
  ref: ImportRef,
  retried: string[] = [],
  betweenPages: (page: number) => void = noPause,
): Promise<ImportStats> {
  const retrying = async <R>(fn: () => Promise<R>): Promise<R> => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await fn();
      } catch (err) {
        if (!(err instanceof ApplicationFailure) || err.nonRetryable || attempt >= 9) throw err;
        retried.push(err.type ?? 'Error');
      }
    }
  };
  let { nextOffset: offset, pass } = await retrying(() => run(acts.beginImport, ref));
  // The workflow's activity: a window of pages per call; one page a call where the test acts between pages.
  const maxPages = betweenPages === noPause ? 50 : 1;
  for (let pages = 0; pages < 100; pages += 1) {
    const page = await retrying(() => run(acts.importPages, { ...ref, offset, pass, maxPages }));
    offset = page.nextOffset;
    pass = page.pass;
    if (page.finished) return retrying(() => run(acts.finishImport, ref));
    betweenPages(pages);
  }
  throw new Error('the walk did not end');
}

const liveIds = async (accountId: string) =>
  (
    await db.sql<{ source_id: string }[]>`
      select source_id from invoices where account_id = ${accountId} and removed_at is null order by source_id`
  ).map((r) => r.source_id);

/** The invoices the sync stores: every id sevDesk has, minus drafts and types that are not shown. */
const shownIds = (sb: Sandbox) =>
  [...sb.store.invoices()]
    .filter(
      (i) => ['200', '750', '1000'].includes(i.status) && i.invoiceType !== 'WKR' && i.invoiceType !== 'MA',
    )
    .filter((i) => i.invoiceType !== 'SR' || i.origin)
    .map((i) => i.id)
    .sort();

const importRef = (accountId: string): ImportRef => ({
  accountId,
  importId: randomId('imp'),
  kind: 'import',
  dryRun: false,
});
const reconcileRef = (accountId: string): ImportRef => ({
  accountId,
  importId: randomId('rec'),
  kind: 'reconcile',
  dryRun: false,
});

describe("a walk ends only at sevDesk's count", () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await sandbox(4401);
  });

  it('an empty page in the middle of an import is read again, not taken for the end', async () => {
    const accountId = await account(sb);
    sb.faults.add({ kind: 'empty-page', path: /^\/Invoice$/, skip: 1 });
    const retried: string[] = [];
    const stats = await walk(importRef(accountId), retried);
    expect(retried).toContain(ErrorTypes.shortPage);
    expect(await liveIds(accountId)).toEqual(shownIds(sb));
    expect(stats.discrepancy ?? null).toBeNull();
  });

  it('a page with repeated rows in place of others makes the walk go round again until it saw them all', async () => {
    const accountId = await account(sb);
    sb.faults.add({ kind: 'duplicate-rows', path: /^\/Invoice$/, skip: 1 });
    const stats = await walk(importRef(accountId));
    expect(stats.pass).toBe(2);
    expect(stats.shortfalls).toHaveLength(1);
    expect(await liveIds(accountId)).toEqual(shownIds(sb));
  });

  it('a page that stays short stops the walk in error instead of ending it as done', async () => {
    const accountId = await account(sb);
    sb.faults.add({ kind: 'short-page', path: /^\/Invoice$/, skip: 1, times: Infinity });
    try {
      const ref = importRef(accountId);
      await expect(walk(ref)).rejects.toThrow(/saw \d+ of the \d+ invoices/);
      const [cp] = await db.sql<{ state: string; error: string | null }[]>`
        select state, stats->>'error' as error from import_checkpoints
        where account_id = ${accountId} and import_id = ${ref.importId}`;
      // Set to start over from offset 0 with its reason, never done (the workflow then records it as error).
      expect(cp).toEqual({ state: 'running', error: expect.stringMatching(/saw \d+ of the \d+ invoices/) });
    } finally {
      sb.faults.clear();
    }
  });
});

describe('a reconcile removes only what is provably gone', () => {
  it('confirms each deleted invoice by id, also when a page glitched during the walk', async () => {
    const sb = await sandbox(4402);
    const accountId = await account(sb);
    await walk(importRef(accountId));
    // sevDesk deletes only drafts: an invoice we transferred that went back to draft and was deleted is gone
    // without a trace. Stand-in: a stored invoice whose id sevDesk does not know.
    const victim = '990000001';
    await db.sql`
      insert into invoices (account_id, customer_id, source, source_id, contact_source_id, origin_source_id, number,
        type, invoice_date, due_date, source_status, status, amount_gross, amount_net, amount, paid_amount, currency,
        foreign_amount, foreign_currency, source_update, content_hash)
      select account_id, customer_id, source, ${victim}, contact_source_id, origin_source_id, 'RE-GONE', type,
        invoice_date, due_date, source_status, status, amount_gross, amount_net, amount, paid_amount, currency,
        foreign_amount, foreign_currency, source_update, content_hash
      from invoices where account_id = ${accountId} and removed_at is null and type <> 'SR' limit 1`;
    const before = await liveIds(accountId);
    expect(before).toContain(victim);
    sb.faults.add({ kind: 'empty-page', path: /^\/Invoice$/, skip: 2 });
    sb.requests.reset();
    const stats = await walk(reconcileRef(accountId));
    expect(stats.deleted).toBe(1);
    expect(stats.sweep?.confirmedDeleted).toBe(1);
    expect(await liveIds(accountId)).toEqual(before.filter((id) => id !== victim));
    // The candidate was confirmed gone by its own GET before it left the totals.
    expect(sb.requests.entries().some((e) => e.path.endsWith(`/Invoice/${victim}`) && e.status === 404)).toBe(
      true,
    );
  });

  it('a token of another sevDesk company wipes nothing: the sweep is held until an operator confirms it', async () => {
    const ours = await sandbox(4403);
    const theirs = await startSandbox({ seed: 9999, data: { invoices: 30 } });
    sandboxes.push(theirs);
    const accountId = await account(ours);
    await walk(importRef(accountId));
    const before = await liveIds(accountId);
    expect(before.length).toBeGreaterThan(HOLD_MIN);
    await pointAt(accountId, theirs, false);
    const stats = await walk(reconcileRef(accountId));
    expect(stats.deleted).toBe(0);
    expect(stats.sweep?.skipped).toMatch(/held/);
    const held = await heldSweep(db.sql, accountId);
    expect(held?.count).toBeGreaterThan(HOLD_MIN);
    expect(await liveIds(accountId)).toEqual(expect.arrayContaining(before));
    // The operator says it is right: then, and only then, they go.
    const applied = await confirmHeldSweep(db.sql, accountId);
    expect(applied?.deleted).toBe(held?.count);
    expect(await heldSweep(db.sql, accountId)).toBeNull();
    expect(await confirmHeldSweep(db.sql, accountId)).toBeNull();
  });
});

describe('whatever order sevDesk lists in (sandbox knobs)', () => {
  it.each(['id-desc', 'update', 'shuffled'] as const)(
    'list order %s: an import loses nothing while invoices arrive mid-walk, a reconcile deletes nothing',
    async (order) => {
      const sb = await sandbox(4410 + ['id-desc', 'update', 'shuffled'].indexOf(order));
      sb.store.knobs.listOrder = order;
      const accountId = await account(sb);
      const contact = [...sb.store.contacts()][0];
      if (!contact) throw new Error('no contact');
      // New invoices land at the front of an id-desc list: every later page shifts by that many rows.
      await walk(importRef(accountId), [], (page) => {
        if (page === 0)
          for (let k = 0; k < 40; k++) sb.store.addInvoice({ contactId: contact.id, sumNet: '10' });
      });
      expect(await liveIds(accountId)).toEqual(shownIds(sb));
      const stats = await walk(reconcileRef(accountId));
      expect(stats.deleted).toBe(0);
      expect(await liveIds(accountId)).toEqual(shownIds(sb));
    },
  );

  it('showAll: cancellations that a list leaves out without showAll=true are still read', async () => {
    const sb = await sandbox(4420);
    sb.store.knobs.hideWithoutShowAll = true;
    const accountId = await account(sb);
    await walk(importRef(accountId));
    const srs = shownIds(sb).filter((id) => sb.store.getInvoice(id)?.invoiceType === 'SR');
    expect(srs.length).toBeGreaterThan(0);
    expect(await liveIds(accountId)).toEqual(shownIds(sb));
  });
});

describe('a count that sevDesk gets wrong', () => {
  it('a total one higher than the rows served ends the walk with the discrepancy recorded, and syncs go on', async () => {
    const sb = await sandbox(4430);
    sb.store.knobs.totalExtra = 1;
    const accountId = await account(sb);
    const stats = await walk(importRef(accountId));
    expect(stats.discrepancy).toMatch(/counts \d+ invoices but served \d+/);
    expect(await liveIds(accountId)).toEqual(shownIds(sb));
    // The incremental sync meets the same count: a short page confirmed twice ends its walk too.
    const res = await run(acts.syncAccount, { accountId });
    expect(res.skipped).toBeNull();
    // And a reconcile after a walk that was not provably complete deletes nothing.
    const rec = await walk(reconcileRef(accountId));
    expect(rec.deleted).toBe(0);
    expect(rec.sweep?.skipped).toMatch(/not provably complete/);
  });
});

describe('a token of another sevDesk company', () => {
  it('is refused before anything is written: the account keeps its own invoices, untouched', async () => {
    const ours = await sandbox(4440);
    const theirs = await startSandbox({ seed: 4441, data: { invoices: 300 }, sevClientId: '7654321' });
    sandboxes.push(theirs);
    const accountId = await account(ours);
    await walk(importRef(accountId));
    const snapshot = async () =>
      db.sql<{ source_id: string; content_hash: string; removed_at: Date | null }[]>`
        select source_id, content_hash, removed_at from invoices where account_id = ${accountId} order by source_id`;
    const before = await snapshot();
    await pointAt(accountId, theirs, false);
    await expect(walk(reconcileRef(accountId))).rejects.toThrow(
      /another sevDesk company \(7654321, not 1234567\)/,
    );
    await expect(run(acts.syncAccount, { accountId })).rejects.toThrow(/another sevDesk company/);
    expect(await snapshot()).toEqual(before);
    const [iface] = await db.sql<
      { state: string }[]
    >`select state from interfaces where account_id = ${accountId}`;
    expect(iface?.state).toBe('error');
  });
});

describe('a poison record served in the middle of an import', () => {
  it.each(['sumGross', 'invoiceNumber', 'timeToPay', 'invoiceDate'])(
    '%s: the page is written, the record is cleaned or reported, the import ends',
    async (field) => {
      const sb = await sandbox(
        4450 + ['sumGross', 'invoiceNumber', 'timeToPay', 'invoiceDate'].indexOf(field),
      );
      const accountId = await account(sb);
      sb.faults.add({ kind: 'poison', path: /^\/Invoice$/, skip: 1, field });
      const stats = await walk(importRef(accountId));
      expect(sb.faults.pending()).toEqual([]);
      const stored = await liveIds(accountId);
      const missing = shownIds(sb).filter((id) => !stored.includes(id));
      // At most the poisoned one is missing, and then it is reported with its id and a reason.
      expect(missing.length).toBeLessThanOrEqual(1);
      const issues = await db.sql<{ source_id: string; reason: string }[]>`
        select source_id, reason from invoice_issues
        where account_id = ${accountId} and kind = 'invalid' and resolved_at is null`;
      for (const id of missing) expect(issues.map((i) => i.source_id)).toContain(id);
      expect(stats.invalid).toBe(issues.length);
    },
  );
});

describe('which sum is in the base currency (sandbox knob)', () => {
  it('a foreign invoice whose sumGross is in its own currency counts with its EUR accounting sum', async () => {
    const sb = await sandbox(4460);
    sb.store.knobs.foreignSumsInOwnCurrency = true;
    const accountId = await account(sb);
    await walk(importRef(accountId));
    const foreign = [...sb.store.invoices()].filter(
      (i) => i.currency !== 'EUR' && ['200', '750', '1000'].includes(i.status) && i.invoiceType === 'RE',
    );
    expect(foreign.length).toBeGreaterThan(0);
    const rows = await db.sql<{ source_id: string; amount_gross: string; foreign_amount: string | null }[]>`
      select source_id, amount_gross, foreign_amount from invoices
      where account_id = ${accountId} and source_id = any(${foreign.map((i) => i.id)}::text[])`;
    expect(rows).toHaveLength(foreign.length);
    for (const r of rows) {
      const inv = foreign.find((i) => i.id === r.source_id)!;
      const eur = (inv as unknown as { sumGrossAccounting: string }).sumGrossAccounting;
      expect(Number(r.amount_gross).toFixed(2)).toBe(Number(eur).toFixed(2));
      expect(Number(r.foreign_amount).toFixed(2)).toBe(Number(inv.sumGrossForeignCurrency).toFixed(2));
    }
  });
});

describe('a record that came malformed once', () => {
  it('is read again by id on a growing interval, and its issue resolves when it reads fine', async () => {
    const sb = await sandbox(4470);
    const accountId = await account(sb);
    sb.faults.add({ kind: 'malformed', path: /^\/Invoice$/, skip: 1, field: 'sumGross' });
    await walk(importRef(accountId));
    const open = async () =>
      db.sql<{ source_id: string }[]>`
        select source_id from invoice_issues
        where account_id = ${accountId} and kind = 'invalid' and resolved_at is null`;
    const [bad] = await open();
    if (!bad) throw new Error('the fault did not hit an invoice');
    // Too young for a re-read: a sync leaves it (no request for it).
    sb.requests.reset();
    await run(acts.syncAccount, { accountId });
    expect(sb.requests.entries().some((e) => e.path.endsWith(`/Invoice/${bad.source_id}`))).toBe(false);
    // Ten seconds on (the issue's clock moved back instead of waiting): read by id, fine now, resolved.
    await db.sql`
      update invoice_issues set first_seen_at = first_seen_at - interval '1 minute',
        last_seen_at = last_seen_at - interval '1 minute'
      where account_id = ${accountId} and source_id = ${bad.source_id}`;
    await run(acts.syncAccount, { accountId });
    expect(await open()).toEqual([]);
    expect(await liveIds(accountId)).toEqual(shownIds(sb));
  });
});

describe('a malformed contact in the list of changed contacts', () => {
  it('does not stop the cycle: the contact is read again by id and the rest goes on', async () => {
    const sb = await sandbox(4480);
    const accountId = await account(sb);
    await walk(importRef(accountId));
    await run(acts.syncAccount, { accountId });
    const [a, b] = [...sb.store.contacts()];
    if (!a || !b) throw new Error('no contacts');
    sb.store.updateContact(a.id, { description: 'geändert' });
    sb.store.updateContact(b.id, { description: 'geändert' });
    sb.faults.add({ kind: 'malformed', path: /^\/Contact$/, field: 'update' });
    sb.requests.reset();
    const res = await run(acts.syncAccount, { accountId });
    expect(res.skipped).toBeNull();
    expect(sb.faults.pending()).toEqual([]);
    // Both changed contacts were read by id, the malformed one included.
    const byId = sb.requests.entries().filter((e) => /\/Contact\/\d+$/.test(e.path));
    expect(byId.map((e) => e.path.split('/').pop()).sort()).toEqual([a.id, b.id].sort());
  });
});
