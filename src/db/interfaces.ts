import { and, eq } from 'drizzle-orm';
import type { ErrorInfo, InterfaceState, SyncCounts } from '../shared';
import { SOURCE_SEVDESK } from '../shared';
import type { Sql, Tx } from './client';
import { recomputeCustomerValues } from './customers';
import { lockAccountEvents } from './events';
import { orm } from './orm';
import * as schema from './schema';
import type { InterfaceSettings } from './schema';

// The interface row and its account. Plain CRUD goes through drizzle's typed query builder (tsc checks the
// columns); the purge and the sync-run log stay raw SQL because they run inside postgres.js transactions
// shared with the page writes.
//
// Writers (one per fact): `active`, `settings`, `base_url` and the token are written only by the use cases
// in src/app; `state`, `last_error`, the cursors and `last_synced_at` only by the sync activities.

/** drizzle replaces postgres.js's JSON serializer, so raw JSON goes in as text with an explicit ::jsonb cast. */
export const jsonb = (value: unknown): string | null =>
  value === null || value === undefined ? null : JSON.stringify(value);

const { accounts, interfaces } = schema;
const sevdeskOf = (accountId: string) =>
  and(eq(interfaces.accountId, accountId), eq(interfaces.provider, SOURCE_SEVDESK));

export interface InterfaceRecord {
  accountId: string;
  baseUrl: string;
  baseCurrency: string;
  tokenCiphertext: string;
  tokenKeyId: string;
  active: boolean;
  settings: InterfaceSettings;
  state: InterfaceState;
  lastError: ErrorInfo | null;
  invoiceCursor: number | null;
  contactCursor: number | null;
  lastSyncedAt: Date | null;
  /** The sevDesk company (SevClient id) the interface's data came from; null before its first data. */
  sevdeskClientId: string | null;
}

export async function loadInterface(sql: Sql, accountId: string): Promise<InterfaceRecord | undefined> {
  const [r] = await orm(sql)
    .select({
      accountId: interfaces.accountId,
      baseUrl: interfaces.baseUrl,
      baseCurrency: accounts.baseCurrency,
      tokenCiphertext: interfaces.tokenCiphertext,
      tokenKeyId: interfaces.tokenKeyId,
      active: interfaces.active,
      settings: interfaces.settings,
      state: interfaces.state,
      lastError: interfaces.lastError,
      invoiceCursor: interfaces.invoiceCursor,
      contactCursor: interfaces.contactCursor,
      lastSyncedAt: interfaces.lastSyncedAt,
      sevdeskClientId: interfaces.sevdeskClientId,
    })
    .from(interfaces)
    .innerJoin(accounts, eq(accounts.id, interfaces.accountId))
    .where(sevdeskOf(accountId));
  if (!r) return undefined;
  return {
    ...r,
    state: r.state as InterfaceState,
    invoiceCursor: r.invoiceCursor === null ? null : Number(r.invoiceCursor),
    contactCursor: r.contactCursor === null ? null : Number(r.contactCursor),
  };
}

export async function setInterfaceState(
  sql: Sql,
  accountId: string,
  state: InterfaceState,
  error: ErrorInfo | null,
) {
  await orm(sql)
    .update(interfaces)
    .set({ state, lastError: error, updatedAt: new Date() })
    .where(sevdeskOf(accountId));
}

export async function recordSyncRun(
  sql: Tx,
  run: { accountId: string; kind: string; counts: SyncCounts; error: ErrorInfo | null },
) {
  await sql`
    insert into sync_runs (account_id, kind, finished_at, pages, fetched, written, unassigned, invalid, error)
    values (${run.accountId}, ${run.kind}, now(), ${run.counts.pages}, ${run.counts.fetched}, ${run.counts.written},
      ${run.counts.unassigned}, ${run.counts.invalid}, ${jsonb(run.error)}::jsonb)`;
}

export async function ensureAccount(sql: Sql, accountId: string, name?: string) {
  await orm(sql)
    .insert(accounts)
    .values({ id: accountId, name: name ?? accountId })
    .onConflictDoNothing({ target: accounts.id });
}

export async function accountExists(sql: Sql, accountId: string): Promise<boolean> {
  const rows = await orm(sql).select({ id: accounts.id }).from(accounts).where(eq(accounts.id, accountId));
  return rows.length === 1;
}

/** Inserts the interface unless the account has one; false when it already had one. */
export async function insertInterface(
  sql: Sql,
  i: {
    accountId: string;
    baseUrl: string;
    ciphertext: string;
    keyId: string;
    settings: InterfaceSettings;
    active: boolean;
  },
): Promise<boolean> {
  const rows = await orm(sql)
    .insert(interfaces)
    .values({
      accountId: i.accountId,
      provider: SOURCE_SEVDESK,
      tokenCiphertext: i.ciphertext,
      tokenKeyId: i.keyId,
      baseUrl: i.baseUrl,
      active: i.active,
      settings: i.settings,
    })
    .onConflictDoNothing({ target: [interfaces.accountId, interfaces.provider] })
    .returning({ id: interfaces.id });
  return rows.length === 1;
}

/** Settings, base URL and token (the token and base URL change together: the ciphertext is bound to it). */
export async function updateInterface(
  sql: Sql,
  accountId: string,
  patch: { baseUrl?: string; ciphertext?: string; keyId?: string; settings?: InterfaceSettings },
) {
  await orm(sql)
    .update(interfaces)
    .set({
      ...(patch.baseUrl === undefined ? {} : { baseUrl: patch.baseUrl }),
      ...(patch.ciphertext === undefined ? {} : { tokenCiphertext: patch.ciphertext }),
      ...(patch.keyId === undefined ? {} : { tokenKeyId: patch.keyId }),
      ...(patch.settings === undefined ? {} : { settings: patch.settings }),
      updatedAt: new Date(),
    })
    .where(sevdeskOf(accountId));
}

export async function setActive(sql: Sql, accountId: string, active: boolean) {
  await sql.begin(async (tx) => {
    await lockAccountEvents(tx, accountId);
    await tx`update interfaces set active = ${active}, updated_at = now()
      where account_id = ${accountId} and provider = ${SOURCE_SEVDESK}`;
  });
}

export interface StoredToken {
  accountId: string;
  provider: string;
  baseUrl: string;
  ciphertext: string;
  keyId: string;
}

/** Every stored token (for key rotation), in a stable order. */
export async function listStoredTokens(sql: Sql): Promise<StoredToken[]> {
  return orm(sql)
    .select({
      accountId: interfaces.accountId,
      provider: interfaces.provider,
      baseUrl: interfaces.baseUrl,
      ciphertext: interfaces.tokenCiphertext,
      keyId: interfaces.tokenKeyId,
    })
    .from(interfaces)
    .orderBy(interfaces.accountId, interfaces.provider);
}

/** Replaces a token's ciphertext only if nobody changed it meanwhile (compare-and-set); false otherwise. */
export async function replaceStoredToken(
  sql: Sql,
  t: StoredToken,
  next: { ciphertext: string; keyId: string },
): Promise<boolean> {
  const rows = await orm(sql)
    .update(interfaces)
    .set({ tokenCiphertext: next.ciphertext, tokenKeyId: next.keyId, updatedAt: new Date() })
    .where(
      and(
        eq(interfaces.accountId, t.accountId),
        eq(interfaces.provider, t.provider),
        eq(interfaces.tokenCiphertext, t.ciphertext),
        eq(interfaces.baseUrl, t.baseUrl),
      ),
    )
    .returning({ id: interfaces.id });
  return rows.length === 1;
}

/** Deletes the interface; with `purge` also the account's synced invoices, issues, contacts and checkpoints. */
export async function deleteInterface(sql: Sql, accountId: string, purge: boolean) {
  await sql.begin(async (tx) => {
    await lockAccountEvents(tx, accountId);
    await tx`delete from interfaces where account_id = ${accountId} and provider = ${SOURCE_SEVDESK}`;
    if (!purge) return;
    const affected = await tx<{ customer_id: number }[]>`
      delete from invoices where account_id = ${accountId} and source = ${SOURCE_SEVDESK} and customer_id is not null
      returning customer_id`;
    await tx`delete from invoices where account_id = ${accountId} and source = ${SOURCE_SEVDESK}`;
    await tx`delete from invoice_issues where account_id = ${accountId} and source = ${SOURCE_SEVDESK}`;
    await tx`delete from source_contacts where account_id = ${accountId} and source = ${SOURCE_SEVDESK}`;
    await tx`delete from import_checkpoints where account_id = ${accountId}`;
    await recomputeCustomerValues(
      tx,
      accountId,
      affected.map((r) => Number(r.customer_id)),
    );
  });
}
