import { isDeepStrictEqual } from 'node:util';
import type { Sql } from '../src/db/client';
import { listCustomers, statusFacts } from '../src/db/views';
import { foldEvents } from '../src/domain/event-fold';
import type { SandboxStore } from '../sandbox';
import { allAccountEvents, canonicalCustomers } from '../test/helpers/feed';
import { recomputedInvoiceValues } from '../test/helpers/oracle';
import type { Truth } from '../test/helpers/truth';
import { truthOf, viewOf } from '../test/helpers/truth';

export interface InvariantResult {
  name: string;
  account: string;
  pass: boolean;
  detail: string;
}

// The "which invoices" rule (docs/sevdesk.md), restated here rather than imported: like test/helpers/truth.ts, the check
// must not share a bug with src/domain.
const SHOWN_TYPES = new Set(['RE', 'AR', 'TR', 'ER']);
const SHOWN_STATUSES = new Set(['200', '750', '1000']);

const sample = (items: readonly string[], n = 5): string =>
  items.length === 0
    ? ''
    : `${items.slice(0, n).join(', ')}${items.length > n ? ` (+${items.length - n})` : ''}`;

/** Every invoice sevDesk has and the rules say to show is stored exactly once; nothing else is shown. */
async function exactlyOnce(sql: Sql, accountId: string, store: SandboxStore): Promise<string[]> {
  const problems: string[] = [];
  const [counts] = await sql<{ n: number; distinct: number }[]>`
    select count(*)::int as n, count(distinct (source, source_id))::int as distinct
    from invoices where account_id = ${accountId}`;
  if (counts?.n !== counts?.distinct) problems.push(`${counts?.n} rows for ${counts?.distinct} source ids`);
  const shown = await sql<{ source_id: string }[]>`
    select source_id from invoices where account_id = ${accountId} and removed_at is null and type <> 'SR'`;
  const expected = new Set<string>();
  for (const inv of store.invoices()) {
    if (SHOWN_TYPES.has(inv.invoiceType) && SHOWN_STATUSES.has(inv.status)) expected.add(inv.id);
  }
  const seen = new Map<string, number>();
  for (const r of shown) seen.set(r.source_id, (seen.get(r.source_id) ?? 0) + 1);
  const twice = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
  const missing = [...expected].filter((id) => !seen.has(id));
  const extra = [...seen.keys()].filter((id) => !expected.has(id));
  if (twice.length > 0) problems.push(`shown twice: ${sample(twice)}`);
  if (missing.length > 0) problems.push(`missing: ${sample(missing)}`);
  if (extra.length > 0) problems.push(`not in sevDesk: ${sample(extra)}`);
  return problems;
}

/** "Invoices" equals a from-scratch sum over the invoice rows; "Total" equals the sum of all values. */
async function valuesRecomputed(sql: Sql, accountId: string): Promise<string[]> {
  const customers = await listCustomers(sql, accountId);
  const recomputed = await recomputedInvoiceValues(sql, accountId);
  const problems: string[] = [];
  const wrong = customers
    .filter((c) => recomputed.get(c.email) !== c.values.invoices)
    .map((c) => `${c.email}: ${c.values.invoices} != ${recomputed.get(c.email)}`);
  if (wrong.length > 0 || customers.length !== recomputed.size) {
    problems.push(
      `invoices value: ${sample(wrong, 3)}${customers.length !== recomputed.size ? ' (customer sets differ)' : ''}`,
    );
  }
  const totals = await sql<{ email: string }[]>`
    select c.email from customers c
    left join (select customer_id, sum(amount) as total from customer_values group by customer_id) v
      on v.customer_id = c.id
    where c.account_id = ${accountId} and c.total_value <> coalesce(v.total, 0)`;
  if (totals.length > 0)
    problems.push(
      `total value: ${sample(
        totals.map((t) => t.email),
        3,
      )}`,
    );
  return problems;
}

function truthDiff(view: Truth, truth: Truth): string[] {
  const problems: string[] = [];
  const emails = new Set([...Object.keys(view.customers), ...Object.keys(truth.customers)]);
  const onlyView: string[] = [];
  const onlyTruth: string[] = [];
  const differ: string[] = [];
  for (const email of emails) {
    const v = view.customers[email];
    const t = truth.customers[email];
    if (!t) onlyView.push(email);
    else if (!v) onlyTruth.push(email);
    else if (!isDeepStrictEqual(v, t)) {
      const lines = [
        ...v.list.filter((x) => !t.list.includes(x)).map((x) => `+${x}`),
        ...t.list.filter((x) => !v.list.includes(x)).map((x) => `-${x}`),
      ];
      differ.push(`${email} ${v.invoices} vs ${t.invoices} [${sample(lines, 4)}]`);
    }
  }
  if (onlyView.length > 0) problems.push(`customers not in the truth: ${sample(onlyView, 3)}`);
  if (onlyTruth.length > 0) problems.push(`customers missing: ${sample(onlyTruth, 3)}`);
  if (differ.length > 0) problems.push(`customers differing: ${sample(differ, 3)}`);
  if (!isDeepStrictEqual(view.unassigned, truth.unassigned)) {
    const extra = view.unassigned.filter((x) => !truth.unassigned.includes(x));
    const missing = truth.unassigned.filter((x) => !view.unassigned.includes(x));
    problems.push(`unassigned: extra ${sample(extra, 3) || '-'}; missing ${sample(missing, 3) || '-'}`);
  }
  return problems;
}

/** The incremental cursor ends on the newest `update` in sevDesk (nothing newer left unread), no error. */
async function cursorAtNewest(sql: Sql, accountId: string, store: SandboxStore): Promise<string[]> {
  let newest = 0;
  for (const inv of store.invoices()) newest = Math.max(newest, Math.floor(Date.parse(inv.update) / 1000));
  const [row] = await sql<{ cursor: string | null; state: string; last_error: unknown }[]>`
    select invoice_cursor::text as cursor, state, last_error from interfaces where account_id = ${accountId}`;
  const problems: string[] = [];
  if (Number(row?.cursor) !== newest) problems.push(`cursor ${row?.cursor}, newest update ${newest}`);
  // The interval keeps syncing, so "syncing" is a fine moment to look; an error is not.
  if (row?.state === 'error' || row?.last_error)
    problems.push(`interface ${row?.state}: ${JSON.stringify(row?.last_error)}`);
  return problems;
}

/** The change feed folded from its first event equals what `customers --json` shows; its seqs have no gap. */
async function feedFoldsToView(sql: Sql, accountId: string): Promise<string[]> {
  const events = await allAccountEvents(sql, accountId);
  const problems: string[] = [];
  const gap = events.findIndex((e, i) => e.seq !== i + 1);
  if (gap >= 0) problems.push(`seq ${events[gap]!.seq} at position ${gap + 1}`);
  let folded;
  try {
    folded = canonicalCustomers(foldEvents(events));
  } catch (err) {
    return [...problems, (err as Error).message];
  }
  const view = canonicalCustomers(await listCustomers(sql, accountId));
  if (!isDeepStrictEqual(folded, view)) {
    const byEmail = new Map(view.map((c) => [String(c.email), c]));
    const differ = folded.filter((c) => !isDeepStrictEqual(c, byEmail.get(String(c.email))));
    const missing = view.filter((c) => !folded.some((f) => f.email === c.email));
    problems.push(
      `fold differs: ${folded.length} customers folded, ${view.length} shown; differing ${
        sample(
          differ.map((c) => String(c.email)),
          3,
        ) || '-'
      }; missing ${
        sample(
          missing.map((c) => String(c.email)),
          3,
        ) || '-'
      }`,
    );
  }
  return problems;
}

/** The invariants that must hold once the faults stopped and a final sync-now ran. */
export async function checkAccount(
  sql: Sql,
  accountId: string,
  store: SandboxStore,
): Promise<InvariantResult[]> {
  const result = (name: string, problems: string[]): InvariantResult => ({
    name,
    account: accountId,
    pass: problems.length === 0,
    detail: problems.join('; '),
  });
  const facts = await statusFacts(sql, accountId);
  const view = viewOf(await listCustomers(sql, accountId), facts.unassigned);
  return [
    result('every invoice exactly once', await exactlyOnce(sql, accountId, store)),
    result('values = from-scratch recomputation', await valuesRecomputed(sql, accountId)),
    result('CRM view = sandbox truth', truthDiff(view, truthOf(store))),
    result(
      'no invalid-payload issue left open',
      facts.invalid.length === 0
        ? []
        : [`${facts.invalid.length} open: ${sample(facts.invalid.map((i) => i.sourceId))}`],
    ),
    result('cursor at the newest update, no interface error', await cursorAtNewest(sql, accountId, store)),
    result('change feed folds to the CRM view, seqs without gaps', await feedFoldsToView(sql, accountId)),
  ];
}

const TABLES = ['invoices', 'customers', 'customer_values', 'invoice_issues'] as const;
type Table = (typeof TABLES)[number];

/** Each row of the account's CRM tables: its key, its xmin (changes with every write) and a content hash. */
export type Snapshot = Record<Table, Map<string, string>>;

export async function snapshot(sql: Sql, accountId: string): Promise<Snapshot> {
  const rows = (q: Promise<{ k: string; v: string }[]>) => q.then((r) => new Map(r.map((x) => [x.k, x.v])));
  return {
    invoices: await rows(sql`
      select i.id::text as k, i.xmin::text || ':' || md5(i::text) as v from invoices i where i.account_id = ${accountId}`),
    customers: await rows(sql`
      select c.id::text as k, c.xmin::text || ':' || md5(c::text) as v from customers c where c.account_id = ${accountId}`),
    customer_values: await rows(sql`
      select v.customer_id::text || '/' || v.kind as k, v.xmin::text || ':' || md5(v::text) as v
      from customer_values v join customers c on c.id = v.customer_id where c.account_id = ${accountId}`),
    invoice_issues: await rows(sql`
      select x.id::text as k, x.xmin::text || ':' || md5(x::text) as v from invoice_issues x where x.account_id = ${accountId}`),
  };
}

/** Rows added, removed or rewritten (a new xmin counts even when the content is byte-identical). */
export function changedRows(before: Snapshot, after: Snapshot): Record<Table, number> {
  const out = {} as Record<Table, number>;
  for (const t of TABLES) {
    let n = 0;
    for (const [k, v] of after[t]) if (before[t].get(k) !== v) n++;
    for (const k of before[t].keys()) if (!after[t].has(k)) n++;
    out[t] = n;
  }
  return out;
}
