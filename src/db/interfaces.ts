import type { ErrorInfo, InterfaceState, SyncCounts } from '../shared';
import { SOURCE_SEVDESK } from '../shared';
import type { Sql } from './client';
import type { Tx } from './crm-writes';
import { recomputeCustomerValues } from './crm-writes';

/** drizzle replaces postgres.js's JSON serializer, so JSON goes in as text with an explicit ::jsonb cast. */
export const jsonb = (value: unknown): string | null =>
  value === null || value === undefined ? null : JSON.stringify(value);
import type { InterfaceSettings } from './schema';

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
}

interface Row {
  account_id: string;
  base_url: string;
  base_currency: string;
  token_ciphertext: string;
  token_key_id: string;
  active: boolean;
  settings: InterfaceSettings;
  state: InterfaceState;
  last_error: ErrorInfo | null;
  invoice_cursor: string | null;
  contact_cursor: string | null;
  /** drizzle's driver setup leaves timestamps as strings. */
  last_synced_at: string | Date | null;
}

export async function loadInterface(sql: Sql, accountId: string): Promise<InterfaceRecord | undefined> {
  const [r] = await sql<Row[]>`
    select i.account_id, i.base_url, a.base_currency, i.token_ciphertext, i.token_key_id, i.active, i.settings,
      i.state, i.last_error, i.invoice_cursor, i.contact_cursor, i.last_synced_at
    from interfaces i join accounts a on a.id = i.account_id
    where i.account_id = ${accountId} and i.provider = ${SOURCE_SEVDESK}`;
  if (!r) return undefined;
  return {
    accountId: r.account_id,
    baseUrl: r.base_url,
    baseCurrency: r.base_currency,
    tokenCiphertext: r.token_ciphertext,
    tokenKeyId: r.token_key_id,
    active: r.active,
    settings: r.settings,
    state: r.state,
    lastError: r.last_error,
    invoiceCursor: r.invoice_cursor === null ? null : Number(r.invoice_cursor),
    contactCursor: r.contact_cursor === null ? null : Number(r.contact_cursor),
    lastSyncedAt: r.last_synced_at === null ? null : new Date(r.last_synced_at),
  };
}

export async function setInterfaceState(
  sql: Sql,
  accountId: string,
  state: InterfaceState,
  error: ErrorInfo | null,
) {
  await sql`
    update interfaces set state = ${state}, last_error = ${jsonb(error)}::jsonb,
      updated_at = now()
    where account_id = ${accountId} and provider = ${SOURCE_SEVDESK}`;
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
  await sql`insert into accounts (id, name) values (${accountId}, ${name ?? accountId}) on conflict (id) do nothing`;
}

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
  const rows = await sql`
    insert into interfaces (account_id, provider, token_ciphertext, token_key_id, base_url, active, settings, state)
    values (${i.accountId}, ${SOURCE_SEVDESK}, ${i.ciphertext}, ${i.keyId}, ${i.baseUrl}, ${i.active},
      ${jsonb(i.settings)}::jsonb, ${i.active ? 'idle' : 'paused'})
    on conflict (account_id, provider) do nothing
    returning id`;
  return rows.length === 1;
}

export async function updateInterface(
  sql: Sql,
  accountId: string,
  patch: { baseUrl?: string; ciphertext?: string; keyId?: string; settings?: InterfaceSettings },
) {
  await sql`
    update interfaces set
      base_url = coalesce(${patch.baseUrl ?? null}, base_url),
      token_ciphertext = coalesce(${patch.ciphertext ?? null}, token_ciphertext),
      token_key_id = coalesce(${patch.keyId ?? null}, token_key_id),
      settings = coalesce(${patch.settings ? jsonb(patch.settings) : null}::jsonb, settings),
      state = case when state = 'error' then 'paused' else state end,
      last_error = null,
      updated_at = now()
    where account_id = ${accountId} and provider = ${SOURCE_SEVDESK}`;
}

export async function setActive(sql: Sql, accountId: string, active: boolean) {
  await sql`
    update interfaces set active = ${active}, state = case when ${active} then 'idle' else 'paused' end,
      updated_at = now()
    where account_id = ${accountId} and provider = ${SOURCE_SEVDESK}`;
}

export async function deleteInterface(sql: Sql, accountId: string, purge: boolean) {
  await sql.begin(async (tx) => {
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
