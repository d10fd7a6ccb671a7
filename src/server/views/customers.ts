// "Kunden": the account's customers with their values, each linking to its own page; a search by name or
// e-mail, sorted by value or name, a page at a time ("weiter" / "zurück").
import type { CustomerListItem, CustomerSearchResult, CustomerSort } from '../../app/customer-search';
import type { CustomerJson } from '../use-cases';
import { count, esc, money } from '../format';
import type { PageContext } from './layout';
import { layout } from './layout';
import { LIVE_SCRIPTS, liveRegion } from './live';

const customerHref = (ctx: PageContext, email: string) =>
  `/ui/accounts/${encodeURIComponent(ctx.account)}/customers/${encodeURIComponent(email)}`;

/** "Dr. Eva Groß", or the company when there is no person's name. */
const nameOf = (c: Pick<CustomerListItem, 'title' | 'firstName' | 'lastName' | 'company'>) =>
  [c.title, c.firstName, c.lastName].filter((x) => x).join(' ') || c.company || '';

const SORT_WORDS: Record<CustomerSort, string> = {
  value: 'Kundenwert (Rechnungen), höchster zuerst',
  name: 'Name (A–Z)',
};

/** The page of customers as the list shows it; a plain list (all customers) is one page without paging. */
function asPage(input: CustomerJson[] | CustomerSearchResult): CustomerSearchResult {
  if (!Array.isArray(input)) return input;
  return {
    customers: input.map(({ invoices, values, ...c }) => ({
      email: c.email,
      company: c.company,
      title: c.title,
      firstName: c.firstName,
      lastName: c.lastName,
      values,
      currency: c.currency,
      invoiceCount: invoices.length,
      countedCount: invoices.filter((i) => i.status !== 'cancelled').length,
    })),
    total: input.length,
    q: '',
    sort: 'value',
    limit: input.length,
    next: null,
    prev: null,
  };
}

export function customersPage(ctx: PageContext, input: CustomerJson[] | CustomerSearchResult): string {
  const result = asPage(input);
  const base = `/ui/accounts/${encodeURIComponent(ctx.account)}/customers`;
  const hrefWith = (cursor: string) => {
    const params = new URLSearchParams();
    if (result.q) params.set('q', result.q);
    if (result.sort !== 'value') params.set('sort', result.sort);
    params.set('cursor', cursor);
    return `${base}?${params.toString()}`;
  };
  const rows = result.customers
    .map(
      (c) =>
        `<tr><td class="email"><a href="${esc(customerHref(ctx, c.email))}">${esc(c.email)}</a></td><td>${esc(nameOf(c))}</td><td>${esc(c.company ?? '')}</td>
<td class="num">${esc(money(c.values.invoices, c.currency))}</td><td class="num">${esc(money(c.values.total, c.currency))}</td><td class="num">${esc(count(c.invoiceCount))}</td></tr>`,
    )
    .join('\n');
  const found = result.q
    ? `${count(result.total)} ${result.total === 1 ? 'Kunde' : 'Kunden'} zu „${result.q}“`
    : `${count(result.total)} ${result.total === 1 ? 'Kunde' : 'Kunden'}`;
  const pager =
    result.prev || result.next
      ? `<nav aria-label="Seiten" class="pager">${
          result.prev ? `<a href="${esc(hrefWith(result.prev))}" rel="prev">← zurück</a>` : ''
        }${result.next ? `<a href="${esc(hrefWith(result.next))}" rel="next">weiter →</a>` : ''}</nav>`
      : '';
  const empty = result.q
    ? `<p>Keine Kunden zu „${esc(result.q)}“. Suche nach einem Teil des Namens, der Firma oder der E-Mail-Adresse.</p>`
    : '<p>Noch keine Kunden.</p>';
  const sortOptions = (['value', 'name'] as const)
    .map((s) => `<option value="${s}"${result.sort === s ? ' selected' : ''}>${esc(SORT_WORDS[s])}</option>`)
    .join('');
  return layout(ctx, {
    title: 'Kunden',
    current: 'customers',
    scripts: LIVE_SCRIPTS,
    body: `<h1>Kunden</h1>
<form method="get" action="${esc(base)}" class="search" role="search" aria-label="Kunden suchen">
  <div><label for="q">Name oder E-Mail</label>
  <input id="q" name="q" type="search" value="${esc(result.q)}" maxlength="200" autocomplete="off"></div>
  <div><label for="sort">Sortieren nach</label>
  <select id="sort" name="sort">${sortOptions}</select></div>
  <div><button type="submit">Suchen</button></div>
</form>
${liveRegion(
  ctx,
  `<section aria-labelledby="h-found">
<h2 id="h-found">${esc(found)}</h2>
${
  result.customers.length
    ? `<div class="table-wrap" role="region" aria-label="Kundentabelle" tabindex="0"><table aria-label="Kunden"><thead><tr><th>E-Mail</th><th>Name</th><th>Firma</th><th class="num">Kundenwert (Rechnungen)</th><th class="num">Kundenwert (gesamt)</th><th class="num">Rechnungen</th></tr></thead>
<tbody>
${rows}
</tbody></table></div>
${pager}`
    : empty
}
</section>
`,
)}`,
  });
}
