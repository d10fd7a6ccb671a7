// One customer: the ten contact fields, the customer values and the invoices with their status words.
import type { CustomerJson } from '../use-cases';
import { date, esc, invoiceStatusWord, money } from '../format';
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

export function customerPage(ctx: PageContext, c: CustomerJson): string {
  const invoices = c.invoices
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
<td class="num">${esc(money(i.amount, i.currency))}${foreign}</td><td><span class="badge ${word.split(' ')[0]}">${esc(word)}</span>${paid}</td></tr>`;
    })
    .join('\n');
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
<section aria-labelledby="h-invoices"><h2 id="h-invoices">Rechnungen (${c.invoices.length})</h2>
${
  c.invoices.length
    ? `<table aria-label="Rechnungen"><thead><tr><th>Rechnungsnummer</th><th>Datum</th><th>Fällig am</th><th class="num">Betrag</th><th>Status</th></tr></thead><tbody>
${invoices}
</tbody></table>`
    : '<p>Keine Rechnungen.</p>'
}
</section>
`,
)}`,
  });
}
