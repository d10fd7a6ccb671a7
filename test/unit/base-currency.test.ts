import { describe, expect, it } from 'vitest';
import { RecordError } from '../../src/domain/limits';
import { toInvoiceRow } from '../../src/domain/invoice';
import type { Invoice } from '../../src/sevdesk/schema';
import { fixtureObjects } from '../sevdesk/helpers/test-server';

// Which sum is in the base currency (docs/sevdesk.md, "Unknowns and the choice made for each"): the
// accounting sums win; without them, a foreign invoice whose sumGross equals its own-currency sum is
// reported, never added to a EUR value as it stands.
const base = fixtureObjects('invoice_list.json')[0] as unknown as Invoice;

describe('base-currency amounts', () => {
  it('prefers sumGrossAccounting / sumNetAccounting for a foreign invoice when sevDesk sends them', () => {
    const row = toInvoiceRow(
      {
        ...base,
        currency: 'USD',
        sumNet: '100',
        sumGross: '119',
        sumNetForeignCurrency: '100',
        sumGrossForeignCurrency: '119',
        sumNetAccounting: '92.5',
        sumGrossAccounting: '110.08',
      } as Invoice,
      'EUR',
    );
    expect(row.amount_gross).toBe('110.08');
    expect(row.amount_net).toBe('92.50');
    expect(row.foreign_amount).toBe('119.00');
    expect(row.foreign_currency).toBe('USD');
  });

  it('reports a foreign invoice whose only sums are in its own currency', () => {
    const inv = {
      ...base,
      currency: 'CHF',
      sumNet: '100',
      sumGross: '108.1',
      sumNetForeignCurrency: '100',
      sumGrossForeignCurrency: '108.1',
    } as Record<string, unknown>;
    delete inv.sumNetAccounting;
    delete inv.sumGrossAccounting;
    expect(() => toInvoiceRow(inv as unknown as Invoice, 'EUR')).toThrow(RecordError);
    expect(() => toInvoiceRow(inv as unknown as Invoice, 'EUR')).toThrow(/base currency is unclear/);
  });

  it('keeps sumGross for a EUR invoice without accounting sums', () => {
    const inv = { ...base, currency: 'EUR', sumGross: '50', sumNet: '42.02' } as Record<string, unknown>;
    delete inv.sumGrossAccounting;
    delete inv.sumNetAccounting;
    expect(toInvoiceRow(inv as unknown as Invoice, 'EUR').amount_gross).toBe('50.00');
  });
});
