// Rows as the domain layer hands them to the page write (src/db/page-write.ts), for its tests.
import type { PageInput } from '../../src/db/page-write';
import type { ContactRow } from '../../src/domain/contact';
import type { InvoiceRow } from '../../src/domain/invoice';
import { SOURCE_SEVDESK } from '../../src/shared';

const NO_NAME = { title: null, first_name: null, last_name: null };
const NO_ADDRESS = { street: null, zip: null, city: null, country: null, phone: null };

/** A contact with an e-mail (or none) and a company name, nothing else. */
export const contactRow = (id: string, email: string | null, over: Partial<ContactRow> = {}): ContactRow => ({
  source_id: id,
  email,
  company: `Firma ${id}`,
  ...NO_NAME,
  ...NO_ADDRESS,
  source_update: null,
  ...over,
});

/** An open invoice (RE) of 2 March 2026 in EUR, nothing paid; the hash changes with amount and status. */
export const invoiceRow = (
  id: string,
  contactId: string,
  gross: string,
  over: Partial<InvoiceRow> = {},
): InvoiceRow => ({
  source_id: id,
  contact_source_id: contactId,
  origin_source_id: null,
  number: `RE-${id}`,
  type: 'RE',
  invoice_date: '2026-03-02',
  due_date: null,
  source_status: '200',
  status: 'open',
  amount_gross: gross,
  amount_net: gross,
  paid_amount: '0.00',
  currency: 'EUR',
  foreign_amount: null,
  foreign_currency: null,
  source_update: '2026-03-02T09:00:00.000Z',
  content_hash: `${id}-${gross}-${over.amount_net ?? gross}-${over.source_status ?? '200'}-${over.status ?? 'open'}`,
  ...over,
});

const NOTHING = { contacts: [], invoices: [], stornos: [], withdrawnIds: [], invalid: [] };

/** A page of the account's sevDesk interface, counting gross amounts, with only what `over` brings. */
export const pageOf = (accountId: string, over: Partial<PageInput> = {}): PageInput => ({
  accountId,
  source: SOURCE_SEVDESK,
  amountBasis: 'gross',
  ...NOTHING,
  ...over,
});
