// One customer: the ten contact fields, the customer values and the invoices with their status words.
import type { ChangeEvent } from '../../app';
import type { CustomerJson } from '../use-cases';
import { date, dateTime, esc, invoiceStatusWord, money } from '../format';
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

export function customerPage(ctx: PageContext, c: CustomerJson, history: ChangeEvent[] = []): string {
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
