// What a coach sees per invoice besides its amount and status: overdue, the dunning reminders sevDesk wrote
// for it, and a link into sevDesk. Called from each invoice row of the customer pages.
import { date, esc } from '../format';
import type { InvoiceJson } from '../use-cases';

type Extras = Partial<Pick<InvoiceJson, 'overdue' | 'daysOverdue' | 'dunnings' | 'sevdeskUrl'>>;

const days = (n: number) => (n === 1 ? 'seit 1 Tag' : `seit ${n} Tagen`);

/** "1. Mahnung am 03.11.2026" (a reminder without a level: "Mahnung am …"). */
export const dunningText = (d: { level: number | null; date: string }): string =>
  `${d.level !== null && d.level > 0 ? `${d.level}. ` : ''}Mahnung am ${date(d.date)}`;

/**
 * Escaped HTML for one invoice: an "überfällig" badge (with "seit N Tagen") when overdue, one line per
 * dunning reminder, and a link that opens the invoice in sevDesk. Empty when there is nothing to show.
 */
export function invoiceExtras(inv: InvoiceJson | Extras): string {
  const parts: string[] = [];
  if (inv.overdue) {
    const n = inv.daysOverdue;
    const since =
      typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? ` <small>${esc(days(n))}</small>` : '';
    parts.push(`<span class="badge overdue">überfällig</span>${since}`);
  }
  for (const d of inv.dunnings ?? []) {
    parts.push(`<span class="dunning">${esc(dunningText(d))}</span>`);
  }
  if (inv.sevdeskUrl && /^https:\/\//i.test(inv.sevdeskUrl)) {
    parts.push(
      `<a class="sevdesk-link" href="${esc(inv.sevdeskUrl)}" target="_blank" rel="noopener noreferrer">in sevDesk öffnen</a>`,
    );
  }
  return parts.length ? `<span class="invoice-extras">${parts.join(' ')}</span>` : '';
}
