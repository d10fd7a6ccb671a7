import type { ImportStats } from '../activities/bulk-import';
import type { StatusView } from '../app';
import type { CustomerView } from '../db/views';

const STATUS_DE: Record<string, string> = { open: 'offen', paid: 'bezahlt', cancelled: 'storniert' };

/** `maxInvoices` keeps the newest few per customer (the demo); the CLI shows all. */
export function formatCustomers(customers: CustomerView[], opts: { maxInvoices?: number } = {}): string {
  if (customers.length === 0) return 'no customers yet';
  const lines: string[] = [];
  for (const c of customers) {
    const name = [c.title, c.firstName, c.lastName].filter(Boolean).join(' ');
    const who = [name, c.company].filter(Boolean).join(', ') || '(no name)';
    const where = [c.street, [c.zip, c.city].filter(Boolean).join(' '), c.country].filter(Boolean).join(', ');
    lines.push(`${c.email}  ${who}${where ? `  · ${where}` : ''}${c.phone ? `  · ${c.phone}` : ''}`);
    lines.push(
      `  Kundenwert (Rechnungen): ${c.values.invoices} ${c.currency}   Kundenwert (gesamt): ${c.values.total} ${c.currency}`,
    );
    const hidden = Math.max(0, c.invoices.length - (opts.maxInvoices ?? c.invoices.length));
    if (hidden > 0) lines.push(`  … ${hidden} older invoices`);
    for (const i of c.invoices.slice(hidden)) {
      const paid = i.status === 'open' && i.paidAmount !== '0.00' ? ` (${i.paidAmount} paid)` : '';
      const foreign = i.foreignAmount ? ` [${i.foreignAmount} ${i.foreignCurrency}]` : '';
      const overdue = i.overdue ? `  überfällig seit ${i.daysOverdue ?? '?'} Tagen` : '';
      const dunning =
        i.dunningLevel !== null ? `  ${i.dunningLevel}. Mahnung` : i.dunnings.length ? '  Mahnung' : '';
      lines.push(
        `  ${(i.number ?? '-').padEnd(12)} ${i.date ?? '          '}  due ${i.dueDate ?? '          '}  ` +
          `${i.amount.padStart(12)} ${i.currency}${foreign}  ${i.status} (${STATUS_DE[i.status] ?? i.status})${paid}` +
          `${overdue}${dunning}`,
      );
    }
  }
  return lines.join('\n');
}

/** `status --json` (docs/cli.md, "`status --json`"): everything but the text view's `live`. */
export function statusJson(s: StatusView): Omit<StatusView, 'live'> {
  const { live: _live, ...contract } = s;
  return contract;
}

export function formatStatus(s: StatusView): string {
  const lines = [
    `account ${s.account}: ${s.active ? 'active' : 'deactivated'}, ${s.state}${s.live ? '' : ' (worker not answering: from the database)'}`,
    `last sync: ${s.lastSyncAt ?? 'never'}   next sync: ${s.nextSyncAt ?? '-'}`,
    `customers: ${s.counts.customers}   invoices: ${s.counts.invoices}   unassigned: ${s.counts.unassigned}` +
      `   invalid: ${s.counts.invalid}`,
  ];
  if (s.error) lines.push(`error: ${s.error.type}: ${s.error.message}`);
  if (s.import)
    lines.push(
      `${s.import.kind}${s.import.dryRun ? ' (dry run)' : ''}: ${s.import.state} ${s.import.done}/${s.import.total ?? '?'}` +
        (s.import.error ? ` (${s.import.error}; \`sevsync import start\` resumes it)` : ''),
    );
  for (const u of s.unassigned) lines.push(`  unassigned ${u.invoiceNumber ?? u.sourceId}: ${u.reason}`);
  for (const c of s.conflicts)
    lines.push(`  conflict ${c.invoiceNumber}: issued by ${c.sources.join(' and ')}`);
  for (const x of s.invalid)
    lines.push(
      `  invalid sevDesk invoice ${x.invoiceNumber ? `${x.invoiceNumber} (id ${x.sourceId})` : x.sourceId}: ${x.reason}`,
    );
  if (s.heldSweep)
    lines.push(
      `held for confirmation: a reconcile would mark ${s.heldSweep.count} of ${s.heldSweep.total} invoices as ` +
        `deleted (${s.heldSweep.heldAt}); check the token's sevDesk company, then: sevsync reconcile --account ${s.account} --confirm`,
    );
  return lines.join('\n');
}

export function formatImport(s: ImportStats, dryRun: boolean): string {
  const lines = [
    `${dryRun ? 'dry run (nothing written)' : 'import done'}: ${s.invoices} invoices, ${s.assigned} matched to a customer, ` +
      `${s.unassigned} unassigned, ${s.invalid} invalid`,
    `open: ${s.openSum}   paid: ${s.paidSum}${dryRun ? '' : `   rows written: ${s.written}`}${s.deleted ? `   deleted in sevDesk: ${s.deleted}` : ''}`,
  ];
  for (const [reason, n] of Object.entries(s.unassignedReasons)) lines.push(`  unassigned (${n}): ${reason}`);
  return lines.join('\n');
}
