import { ApplicationFailure } from '@temporalio/common';
import type { Sql } from '../db/client';
import { bindCompany, boundCompany } from '../db/sync';
import { ErrorTypes } from '../shared';

/** The SevClient (company) id an object carries, if it has a well-formed one. */
function companyOf(obj: unknown): string | null {
  const ref = (obj as { sevClient?: unknown } | null)?.sevClient as { id?: unknown } | undefined;
  const id = ref?.id;
  if (typeof id === 'number') return Number.isSafeInteger(id) && id >= 0 ? String(id) : null;
  return typeof id === 'string' && /^\d+$/.test(id) ? id : null;
}

/**
 * Every invoice a walk or sync writes must come from the company the interface's data came from: a token of
 * another sevDesk company (pasted by mistake) would otherwise overwrite this account's invoices with ids that
 * mean something else there. The first data binds the interface; a mismatch stops before anything is written.
 */
export async function checkCompany(
  sql: Sql,
  accountId: string,
  objects: readonly unknown[],
  opts: {
    bind?: boolean;
    /** The binding as the caller read it (InterfaceRecord.sevdeskClientId): a binding never changes, so a
     * known one is not read again; null or absent: read now. */
    bound?: string | null;
  } = {},
): Promise<void> {
  const ids = new Set(objects.flatMap((o) => companyOf(o) ?? []));
  if (ids.size === 0) return;
  let bound = opts.bound ?? (await boundCompany(sql, accountId));
  // A dry run previews a token: it checks against a binding but never makes one.
  if (bound === null && opts.bind === false) return;
  if (bound === null) bound = await bindCompany(sql, accountId, [...ids][0] ?? '');
  const other = [...ids].find((id) => id !== bound);
  if (other === undefined) return;
  throw ApplicationFailure.create({
    type: ErrorTypes.otherCompany,
    message:
      `the API token belongs to another sevDesk company (${other}, not ${bound}): nothing was written. ` +
      'Set the token of the right company, or remove the interface with purge and add it again for the new one',
    nonRetryable: true,
  });
}
