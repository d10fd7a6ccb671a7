import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Sql } from '../db/client';
import { reassignContacts, upsertSourceContacts } from '../db/crm-writes';
import type { InterfaceRecord } from '../db/interfaces';
import { loadInterface, recordSyncRun, setInterfaceState } from '../db/interfaces';
import type { SevdeskClient } from '../sevdesk/client';
import { walkPages } from '../sevdesk/client';
import { isSevdeskError, SevdeskInvalidTokenError, SevdeskRateLimitedError } from '../sevdesk/errors';
import type { ErrorInfo, SyncCounts } from '../shared';
import { emptyCounts, ErrorTypes, SOURCE_SEVDESK } from '../shared';
import { withHeartbeat } from './heartbeat';
import { processInvoicePage } from './pages';
import { changedContactIds, fetchAllContacts, fetchContacts } from './sevdesk-reads';

export interface ActivityDeps {
  sql: Sql;
  /** Builds a client for one interface; the token never leaves the activity. */
  sevdesk: (opts: { baseUrl: string; token: string }) => SevdeskClient;
  decryptToken: (iface: InterfaceRecord) => string;
  /** Re-read window for `updateAfter`: the bound's inclusivity is unknown and clocks differ. */
  overlapSeconds?: number;
  /** Unassigned invoices whose contacts are re-fetched per cycle (they may have got an e-mail). */
  recheckLimit?: number;
}

export const DEFAULT_OVERLAP_SECONDS = 300;

export interface SyncResult {
  skipped: 'inactive' | null;
  counts: SyncCounts;
  invoiceCursor: number | null;
}

/** Maps client errors to Temporal failures: workflows branch on `type`, retries honour Retry-After. */
export function toFailure(err: unknown): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof SevdeskRateLimitedError) {
    return ApplicationFailure.create({
      type: err.type,
      message: err.message,
      nextRetryDelay: err.retryAfterMs ?? undefined,
    });
  }
  if (isSevdeskError(err)) {
    return ApplicationFailure.create({ type: err.type, message: err.message, nonRetryable: !err.retryable });
  }
  return err;
}

export const invalidTokenMessage = (accountId: string): string =>
  `sevDesk rejected the API token (HTTP 401). Set a new one: sevsync interface deactivate --account ${accountId}; ` +
  `sevsync interface update --account ${accountId} --token <new token>; sevsync interface activate --account ${accountId}`;

/** The interface and a client for it; the decrypted token goes straight into the client and nowhere else. */
export async function openInterface(deps: ActivityDeps, accountId: string) {
  const iface = await loadInterface(deps.sql, accountId);
  if (!iface) {
    throw ApplicationFailure.create({
      type: ErrorTypes.interfaceMissing,
      message: `account ${accountId} has no sevDesk interface`,
      nonRetryable: true,
    });
  }
  const client = deps.sevdesk({ baseUrl: iface.baseUrl, token: deps.decryptToken(iface) });
  return { iface, client };
}

export function createSyncActivities(deps: ActivityDeps) {
  const overlap = deps.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS;

  async function fail(accountId: string, kind: string, err: unknown): Promise<never> {
    const info: ErrorInfo =
      err instanceof SevdeskInvalidTokenError
        ? { type: ErrorTypes.invalidToken, message: invalidTokenMessage(accountId) }
        : {
            type: isSevdeskError(err) ? err.type : ((err as Error).name ?? 'Error'),
            message: (err as Error).message,
          };
    const fatal = err instanceof SevdeskInvalidTokenError;
    await setInterfaceState(deps.sql, accountId, fatal ? 'error' : 'idle', info);
    await recordSyncRun(deps.sql, { accountId, kind, counts: emptyCounts(), error: info });
    if (fatal)
      throw ApplicationFailure.create({ type: info.type, message: info.message, nonRetryable: true });
    throw toFailure(err);
  }

  /**
   * One incremental cycle: contacts changed since the contact cursor, invoices changed since the invoice cursor
   * (minus the overlap; everything on the first run), then a re-check of unassigned invoices.
   */
  async function syncAccount(input: { accountId: string }): Promise<SyncResult> {
    return withHeartbeat((report) => syncOnce(input, report));
  }

  async function syncOnce(
    { accountId }: { accountId: string },
    report: (details: { offset: number }) => void,
  ): Promise<SyncResult> {
    const { iface, client } = await openInterface(deps, accountId);
    if (!iface.active)
      return { skipped: 'inactive', counts: emptyCounts(), invoiceCursor: iface.invoiceCursor };
    const ctx = {
      sql: deps.sql,
      client,
      accountId,
      source: SOURCE_SEVDESK,
      amountBasis: iface.settings.amountBasis,
      baseCurrency: iface.baseCurrency,
    };
    const counts = emptyCounts();
    await setInterfaceState(deps.sql, accountId, 'syncing', null);
    try {
      let contactCursor = iface.contactCursor;
      if (iface.invoiceCursor === null) {
        // First run: every contact in pages of 1,000 instead of a few requests per contact.
        const all = await fetchAllContacts(client);
        await upsertSourceContacts(deps.sql, accountId, SOURCE_SEVDESK, all.rows);
        contactCursor = all.maxUpdate ?? contactCursor;
      } else if (contactCursor !== null) {
        const changed = await changedContactIds(client, Math.max(0, contactCursor - overlap));
        const known = await knownContacts(deps.sql, accountId, changed.ids);
        if (known.length > 0) {
          await upsertSourceContacts(deps.sql, accountId, SOURCE_SEVDESK, await fetchContacts(client, known));
          await reassignContacts(deps.sql, accountId, SOURCE_SEVDESK, known);
        }
        contactCursor = Math.max(contactCursor, changed.maxUpdate ?? contactCursor);
      }

      const updateAfter =
        iface.invoiceCursor === null ? undefined : Math.max(0, iface.invoiceCursor - overlap);
      const resumeFrom =
        (Context.current().info.heartbeatDetails as { offset?: number } | undefined)?.offset ?? 0;
      let cursor = iface.invoiceCursor;
      for await (const { page, offset } of walkPages(
        (o, limit) => client.listInvoices({ offset: o, limit, updateAfter }),
        { startOffset: resumeFrom },
      )) {
        const out = await processInvoicePage(ctx, page);
        counts.pages += 1;
        counts.fetched += out.fetched;
        counts.written += out.written;
        counts.invalid += out.invalid;
        if (out.maxUpdate !== null) cursor = Math.max(cursor ?? 0, out.maxUpdate);
        report({ offset: offset + page.rawCount });
      }

      const recheck = await unassignedContacts(deps.sql, accountId, deps.recheckLimit ?? 100);
      if (recheck.length > 0) {
        await upsertSourceContacts(deps.sql, accountId, SOURCE_SEVDESK, await fetchContacts(client, recheck));
        await reassignContacts(deps.sql, accountId, SOURCE_SEVDESK, recheck);
      }
      counts.unassigned = await countUnassigned(deps.sql, accountId);
      await deps.sql`
        update interfaces set invoice_cursor = ${cursor}, contact_cursor = ${contactCursor}, state = 'idle',
          last_error = null, last_synced_at = now(), updated_at = now()
        where account_id = ${accountId} and provider = ${SOURCE_SEVDESK}`;
      await recordSyncRun(deps.sql, { accountId, kind: 'incremental', counts, error: null });
      Context.current().log.info('sevDesk sync done', { accountId, ...counts, invoiceCursor: cursor });
      return { skipped: null, counts, invoiceCursor: cursor };
    } catch (err) {
      return fail(accountId, 'incremental', err);
    }
  }

  return { syncAccount };
}

async function knownContacts(sql: Sql, accountId: string, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await sql<{ source_id: string }[]>`
    select source_id from source_contacts
    where account_id = ${accountId} and source = ${SOURCE_SEVDESK} and source_id = any(${ids}::text[])`;
  return rows.map((r) => r.source_id);
}

async function unassignedContacts(sql: Sql, accountId: string, limit: number): Promise<string[]> {
  const rows = await sql<{ contact_source_id: string }[]>`
    select distinct contact_source_id from invoices
    where account_id = ${accountId} and source = ${SOURCE_SEVDESK} and customer_id is null and removed_at is null
      and type <> 'SR' and contact_source_id is not null
    order by contact_source_id limit ${limit}`;
  return rows.map((r) => r.contact_source_id);
}

async function countUnassigned(sql: Sql, accountId: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from invoice_issues
    where account_id = ${accountId} and source = ${SOURCE_SEVDESK} and kind = 'unassigned' and resolved_at is null`;
  return row?.n ?? 0;
}
