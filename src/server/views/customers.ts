// "Kunden": the account's customers with their values, each linking to its own page.
import type { CustomerJson } from '../use-cases';
import { esc, money } from '../format';
import { customerName } from './customer';
import type { PageContext } from './layout';
import { layout } from './layout';
import { LIVE_SCRIPTS, liveRegion } from './live';

const customerHref = (ctx: PageContext, email: string) =>
  `/ui/accounts/${encodeURIComponent(ctx.account)}/customers/${encodeURIComponent(email)}`;

export function customersPage(ctx: PageContext, customers: CustomerJson[]): string {
  const rows = customers
    .map(
      (
        c,
      ) => `<tr><td><a href="${esc(customerHref(ctx, c.email))}">${esc(c.email)}</a></td><td>${esc(customerName(c))}</td><td>${esc(c.company ?? '')}</td>
<td class="num">${esc(money(c.values.invoices, c.currency))}</td><td class="num">${esc(money(c.values.total, c.currency))}</td><td class="num">${c.invoices.length}</td></tr>`,
    )
    .join('\n');
  return layout(ctx, {
    title: 'Kunden',
    current: 'customers',
    scripts: LIVE_SCRIPTS,
    body: `<h1>Kunden</h1>
${liveRegion(
  ctx,
  `<section>
${
  customers.length
    ? `<table aria-label="Kunden"><thead><tr><th>E-Mail</th><th>Name</th><th>Firma</th><th class="num">Kundenwert (Rechnungen)</th><th class="num">Kundenwert (gesamt)</th><th class="num">Rechnungen</th></tr></thead>
<tbody>
${rows}
</tbody></table>`
    : '<p>Noch keine Kunden.</p>'
}
</section>
`,
)}`,
  });
}
