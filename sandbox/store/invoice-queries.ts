import { STATUS, TYPE, numberPrefix, typeName } from '../columns';
import type { Invoice, InvoiceStatus, InvoiceType } from '../types';
import type { ContactTable } from './contacts';
import type { InvoiceTable } from './invoices';
import type { SandboxKnobs } from './knobs';
import { scanPage, type Page, type PageRequest } from './paging';

export interface InvoiceFilter {
  status?: string;
  invoiceType?: string;
  invoiceNumber?: string;
  contactId?: string;
  originId?: string;
  updateAfter?: number;
  updateBefore?: number;
  createAfter?: number;
  createBefore?: number;
  startDate?: number;
  endDate?: number;
  orderByInvoiceNumber?: 'ASC' | 'DESC';
  /** `showAll=true` on the request: with the `hideWithoutShowAll` knob, SR invoices appear only then. */
  showAll?: boolean;
}

/** GET /Invoice: filters over the typed columns, so that only the invoices of the page are built. */
export class InvoiceQueries {
  private readonly invoices: InvoiceTable;
  private readonly contacts: ContactTable;
  private readonly knobs: SandboxKnobs;

  constructor(deps: { invoices: InvoiceTable; contacts: ContactTable; knobs: SandboxKnobs }) {
    this.invoices = deps.invoices;
    this.contacts = deps.contacts;
    this.knobs = deps.knobs;
  }

  /**
   * One page of invoices, in ascending id order unless the knobs say otherwise (sevDesk's default order is
   * undocumented). Returns the stored objects, not copies, for speed: treat them as read-only.
   */
  query(filter: InvoiceFilter, page: PageRequest): Page<Invoice> {
    const result = this.queryRaw(filter, page);
    return result.total === undefined || this.knobs.totalExtra === 0
      ? result
      : { ...result, total: result.total + this.knobs.totalExtra };
  }

  private queryRaw(filter: InvoiceFilter, page: PageRequest): Page<Invoice> {
    const hideSr = this.knobs.hideWithoutShowAll && filter.showAll !== true;
    if (hideSr || this.knobs.listOrder !== 'id-asc') return this.queryKnobbed(filter, page, hideSr);
    const table = this.invoices;
    const columns = table.columns;
    const { showAll: _showAll, ...rest } = filter;
    const active = Object.entries(rest).some(([, v]) => v !== undefined);
    if (!active) {
      const total = table.count();
      const items: Invoice[] = [];
      for (let i = table.nthLive(page.offset); i < columns.length && items.length < page.limit; i++) {
        if (table.deleted.size > 0 && table.deleted.has(i)) continue;
        items.push(table.served(i));
      }
      return page.countAll ? { items, total } : { items };
    }
    const match = this.predicate(filter);
    if (filter.orderByInvoiceNumber) {
      const all: number[] = [];
      for (let i = 0; i < columns.length; i++) if (match(i)) all.push(i);
      const dir = filter.orderByInvoiceNumber === 'DESC' ? -1 : 1;
      all.sort((a, b) => dir * this.compareNumbers(a, b));
      const items = all.slice(page.offset, page.offset + page.limit).map((i) => table.served(i));
      return page.countAll ? { items, total: all.length } : { items };
    }
    return scanPage(columns.length, match, page, (i) => table.served(i));
  }

  /** The same list under the knobs: every match collected, ordered as the knob says, then paged. */
  private queryKnobbed(filter: InvoiceFilter, page: PageRequest, hideSr: boolean): Page<Invoice> {
    const table = this.invoices;
    const columns = table.columns;
    const { showAll: _showAll, ...rest } = filter;
    const match = this.predicate(rest);
    const all: number[] = [];
    for (let i = 0; i < columns.length; i++) {
      if (table.deleted.size > 0 && table.deleted.has(i)) continue;
      if (!match(i)) continue;
      if (hideSr && table.served(i).invoiceType === 'SR') continue;
      all.push(i);
    }
    const order = this.knobs.listOrder;
    if (filter.orderByInvoiceNumber) {
      const dir = filter.orderByInvoiceNumber === 'DESC' ? -1 : 1;
      all.sort((a, b) => dir * this.compareNumbers(a, b));
    } else if (order === 'id-desc') all.reverse();
    else if (order === 'update')
      all.sort((a, b) => (columns.update[a] ?? 0) - (columns.update[b] ?? 0) || a - b);
    const picked = all.slice(page.offset, page.offset + page.limit);
    if (order === 'shuffled') {
      for (let k = picked.length - 1; k > 0; k--) {
        const j = Math.floor(Math.random() * (k + 1));
        [picked[k], picked[j]] = [picked[j]!, picked[k]!];
      }
    }
    const items = picked.map((i) => table.served(i));
    return page.countAll ? { items, total: all.length } : { items };
  }

  private predicate(f: InvoiceFilter): (i: number) => boolean {
    const c = this.invoices.columns;
    const deleted = this.invoices.deleted;
    const statusCode = f.status === undefined ? undefined : (STATUS[f.status as InvoiceStatus] ?? -1);
    const typeCode = f.invoiceType === undefined ? undefined : (TYPE[f.invoiceType as InvoiceType] ?? -1);
    const contact = f.contactId === undefined ? undefined : (this.contacts.index(f.contactId) ?? -2);
    const origin = f.originId === undefined ? undefined : (this.invoices.index(f.originId) ?? -2);
    let number: { prefix: string; n: number } | undefined;
    if (f.invoiceNumber !== undefined) {
      const m = /^([A-Z]+)-(\d{1,9})$/.exec(f.invoiceNumber);
      number = m?.[1] && m[2] ? { prefix: m[1], n: Number(m[2]) } : { prefix: '', n: -2 };
    }
    return (i) => {
      if (deleted.size > 0 && deleted.has(i)) return false;
      if (statusCode !== undefined && c.status[i] !== statusCode) return false;
      if (typeCode !== undefined && c.type[i] !== typeCode) return false;
      if (contact !== undefined && c.contact[i] !== contact) return false;
      if (origin !== undefined && c.origin[i] !== origin) return false;
      const update = c.update[i] ?? 0;
      const create = c.create[i] ?? 0;
      const date = c.invoiceDate[i] ?? 0;
      if (f.updateAfter !== undefined && !(update > f.updateAfter)) return false;
      if (f.updateBefore !== undefined && !(update < f.updateBefore)) return false;
      if (f.createAfter !== undefined && !(create > f.createAfter)) return false;
      if (f.createBefore !== undefined && !(create < f.createBefore)) return false;
      if (f.startDate !== undefined && !(date >= f.startDate)) return false;
      if (f.endDate !== undefined && !(date <= f.endDate)) return false;
      if (number !== undefined) {
        if (c.number[i] !== number.n || numberPrefix(typeName(c.type[i] ?? 0)) !== number.prefix)
          return false;
      }
      return true;
    };
  }

  /** Invoice-number order [GUESS]: by prefix, then number; drafts (no number) last in ASC, first in DESC. */
  private compareNumbers(a: number, b: number): number {
    const c = this.invoices.columns;
    const na = c.number[a] ?? -1;
    const nb = c.number[b] ?? -1;
    if (na < 0 || nb < 0) return na < 0 && nb < 0 ? a - b : na < 0 ? 1 : -1;
    const pa = numberPrefix(typeName(c.type[a] ?? 0));
    const pb = numberPrefix(typeName(c.type[b] ?? 0));
    return pa === pb ? na - nb : pa < pb ? -1 : 1;
  }
}
