// One customer: the ten contact fields, the customer values, the value per year and the invoices (newest
// first, filtered by open / overdue / paid) with their status words.
import Decimal from 'decimal.js';
import type { ChangeEvent } from '../../app';
import type { CustomerJson, InvoiceJson } from '../use-cases';
import { count, date, dateTime, esc, invoiceStatusWord, money } from '../format';
import { invoiceExtras } from './invoice-extras';
import type { PageContext } from './layout';
import { layout } from './layout';
import { LIVE_SCRIPTS, liveRegion } from './live';

/** "Dr. Eva Groß", or the company when there is no person's name. */
export const customerName = (c: CustomerJson) =>
  [c.title, c.firstName, c.lastName].filter((x) => x).join(' ') || c.company || '';

const CONTACT_FIELDS: [keyof CustomerJson, string][] = [
  ['email', 'E-Mail Adresse'],
  ['company', 'Firmenname'],
  ['title', 'Titel'],
  ['firstName', 'Vorname'],
  ['lastName', 'Nachname'],
  ['street', 'Adresse (Straße & Hausnummer)'],
  ['zip', 'PLZ'],
  ['city', 'Stadt'],
  ['country', 'Land'],
  ['phone', 'Telefonnummer'],
];

const CHANGE_WORDS: Record<string, string> = { created: 'neu', updated: 'geändert', removed: 'entfernt' };
const STATUS_WORDS: Record<string, string> = { open: 'offen', paid: 'bezahlt', cancelled: 'storniert' };

interface ValuesChange {
  values: { invoices: string; total: string };
  previous: { invoices: string; total: string };
  currency: string;
  causes: { number: string | null; sourceId: string; change: string; status: string | null }[];
  moreCauses?: number;
}

/**
 * One line of the "Verlauf": "Kundenwert (Rechnungen) 1.200,00 EUR → 1.487,50 EUR: RE-1524 neu, offen",
 * the total too when it moved differently, and when.
 */
function historyLine(e: ChangeEvent): string {
  const d = e.data as unknown as ValuesChange;
  const causes = d.causes
    .map((k) => {
      const status = STATUS_WORDS[k.status ?? ''] ?? k.status;
      return `${k.number ?? `sevDesk ${k.sourceId}`} ${CHANGE_WORDS[k.change] ?? k.change}${status ? `, ${status}` : ''}`;
    })
    .join('; ');
  const more = d.moreCauses ? ` und ${d.moreCauses} weitere` : '';
  const moves = [
    d.previous.invoices !== d.values.invoices
      ? `Kundenwert (Rechnungen) ${money(d.previous.invoices, d.currency)} → ${money(d.values.invoices, d.currency)}`
      : '',
    d.previous.total !== d.values.total &&
    (d.previous.total !== d.previous.invoices || d.values.total !== d.values.invoices)
      ? `Kundenwert (gesamt) ${money(d.previous.total, d.currency)} → ${money(d.values.total, d.currency)}`
      : '',
  ].filter((x) => x);
  return `<li><time datetime="${esc(e.occurredAt)}">${esc(dateTime(e.occurredAt))}</time> ${esc(moves.join(', '))}${
    causes ? `: ${esc(causes + more)}` : ''
  }</li>`;
}

/** The invoice filters of the customer page (`?filter=`). */
export type InvoiceFilter = 'offen' | 'ueberfaellig' | 'bezahlt';
export const INVOICE_FILTERS: readonly InvoiceFilter[] = ['offen', 'ueberfaellig', 'bezahlt'];
const FILTER_WORDS: Record<InvoiceFilter, string> = {
  offen: 'offen',
  ueberfaellig: 'überfällig',
  bezahlt: 'bezahlt',
};

/** Today in Berlin as YYYY-MM-DD (what a due date compares with). */
const berlinToday = (now: Date): string =>
  new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Europe/Berlin',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(now);

/** Overdue as the customer's JSON says; without that field, open and past its due date. */
function isOverdue(inv: InvoiceJson, today: string): boolean {
  const flag = (inv as { overdue?: boolean }).overdue;
  if (typeof flag === 'boolean') return flag;
  return inv.status === 'open' && !!inv.dueDate && inv.dueDate.slice(0, 10) < today;
}

function matches(inv: InvoiceJson, filter: InvoiceFilter | null, today: string): boolean {
  if (filter === 'offen') return inv.status === 'open';
  if (filter === 'ueberfaellig') return isOverdue(inv, today);
  if (filter === 'bezahlt') return inv.status === 'paid';
  return true;
}

/** Newest first: by date (none last), then number, descending. */
const newestFirst = (a: InvoiceJson, b: InvoiceJson): number =>
  (b.date ?? '').localeCompare(a.date ?? '') ||
  (b.number ?? '').localeCompare(a.number ?? '', 'de', { numeric: true });

export interface YearValue {
  /** The invoice year, or null for invoices without a date. */
  year: string | null;
  currency: string;
  amount: string;
  invoices: number;
}

/** The sum of the counted invoices (open and paid) per invoice year and currency, newest year first. */
export function valuesPerYear(invoices: InvoiceJson[]): YearValue[] {
  const sums = new Map<string, { year: string | null; currency: string; sum: Decimal; n: number }>();
  for (const inv of invoices) {
    if (inv.status !== 'open' && inv.status !== 'paid') continue;
    const year = /^\d{4}/.exec(inv.date ?? '')?.[0] ?? null;
    const k = `${year ?? ''}|${inv.currency}`;
    const entry = sums.get(k) ?? { year, currency: inv.currency, sum: new Decimal(0), n: 0 };
    entry.sum = entry.sum.plus(new Decimal(inv.amount));
    entry.n += 1;
    sums.set(k, entry);
  }
  return [...sums.values()]
    .sort((a, b) => (b.year ?? '').localeCompare(a.year ?? '') || a.currency.localeCompare(b.currency))
    .map((e) => ({ year: e.year, currency: e.currency, amount: e.sum.toFixed(2), invoices: e.n }));
}

export function customerPage(
  ctx: PageContext,
  c: CustomerJson,
  history: ChangeEvent[] = [],
  opts: { filter?: InvoiceFilter | null; now?: Date } = {},
): string {
  const filter = opts.filter ?? null;
  const today = berlinToday(opts.now ?? new Date());
  const self = `/ui/accounts/${encodeURIComponent(ctx.account)}/customers/${encodeURIComponent(c.email)}`;
  const shown = c.invoices.filter((i) => matches(i, filter, today)).sort(newestFirst);
  const invoices = shown
    .map((i) => {
      const word = invoiceStatusWord(i.status, i.paidAmount);
      const foreign =
        i.foreignAmount && i.foreignCurrency && i.foreignCurrency !== i.currency
          ? ` <small>(${esc(money(i.foreignAmount, i.foreignCurrency))})</small>`
          : '';
      const paid =
        word === 'teilweise bezahlt'
          ? ` <small>(${esc(money(i.paidAmount, i.currency))} bezahlt)</small>`
          : '';
      return `<tr><td>${esc(i.number ?? '')}</td><td>${esc(date(i.date))}</td><td>${esc(date(i.dueDate))}</td>
<td class="num">${esc(money(i.amount, i.currency))}${foreign}</td><td><span class="badge ${word.split(' ')[0]}">${esc(word)}</span>${paid}</td><td>${invoiceExtras(i)}</td></tr>`;
    })
    .join('\n');
  const countOf = (f: InvoiceFilter | null) => c.invoices.filter((i) => matches(i, f, today)).length;
  const filterLink = (f: InvoiceFilter | null) =>
    `<a href="${esc(f ? `${self}?filter=${f}` : self)}"${filter === f ? ' aria-current="page"' : ''}>${esc(
      f ? FILTER_WORDS[f] : 'alle',
    )} (${esc(count(countOf(f)))})</a>`;
  const filters = `<nav aria-label="Rechnungen filtern" class="filters">${[null, ...INVOICE_FILTERS]
    .map(filterLink)
    .join(' ')}</nav>`;
  const years = valuesPerYear(c.invoices);
  const yearTable = years.length
    ? `<div class="table-wrap"><table aria-label="Kundenwert je Jahr"><thead><tr><th>Jahr</th><th class="num">Rechnungen</th><th class="num">Betrag</th></tr></thead><tbody>
${years
  .map(
    (y) =>
      `<tr><td>${esc(y.year ?? 'ohne Datum')}</td><td class="num">${esc(count(y.invoices))}</td><td class="num">${esc(money(y.amount, y.currency))}</td></tr>`,
  )
  .join('\n')}
</tbody></table></div>`
    : '<p>Noch keine Rechnung, die zählt.</p>';
  const invoiceList = !c.invoices.length
    ? '<p>Keine Rechnungen.</p>'
    : shown.length
      ? `<div class="table-wrap" role="region" aria-label="Rechnungstabelle" tabindex="0"><table aria-label="Rechnungen"><thead><tr><th>Rechnungsnummer</th><th>Datum</th><th>Fällig am</th><th class="num">Betrag</th><th>Status</th><th>Hinweise</th></tr></thead><tbody>
${invoices}
</tbody></table></div>`
      : `<p>Keine Rechnungen mit dem Filter „${esc(filter ? FILTER_WORDS[filter] : '')}“.</p>`;
  return layout(ctx, {
    title: c.email,
    current: 'customers',
    scripts: LIVE_SCRIPTS,
    body: `<p><a href="/ui/accounts/${encodeURIComponent(ctx.account)}/customers">← Kunden</a></p>
<h1>${esc(customerName(c) || c.email)}</h1>
${liveRegion(
  ctx,
  `<section aria-labelledby="h-contact"><h2 id="h-contact">Kontakt</h2>
<dl>
${CONTACT_FIELDS.map(([k, label]) => `<dt>${esc(label)}</dt><dd>${esc((c[k] as string | null) ?? '')}</dd>`).join('\n')}
<dt>Kundenwert (Rechnungen)</dt><dd>${esc(money(c.values.invoices, c.currency))}</dd>
<dt>Kundenwert (gesamt)</dt><dd>${esc(money(c.values.total, c.currency))}</dd>
</dl></section>
<section aria-labelledby="h-years"><h2 id="h-years">Kundenwert je Jahr</h2>
<p>Summe der offenen und bezahlten Rechnungen nach Rechnungsjahr.</p>
${yearTable}
</section>
<section aria-labelledby="h-invoices"><h2 id="h-invoices">Rechnungen (${esc(count(c.invoices.length))})</h2>
${c.invoices.length ? filters : ''}
${invoiceList}
</section>
<section aria-labelledby="h-history"><h2 id="h-history">Verlauf</h2>
${
  history.length
    ? `<ol class="history" aria-label="Verlauf">
${[...history].reverse().map(historyLine).join('\n')}
</ol>`
    : '<p>Noch keine Änderung des Kundenwerts.</p>'
}
</section>
`,
)}`,
  });
}
