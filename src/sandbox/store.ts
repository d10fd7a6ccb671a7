import { berlinDayIso, berlinIso, berlinMidnight, toUnixSeconds } from './berlin-time';
import { STATUS, TYPE, numberPrefix, typeName, type InvoiceColumns } from './columns';
import {
  ADDRESS_ID_BASE,
  ADDRESS_SLOTS,
  COMM_WAY_ID_BASE,
  COMM_WAY_SLOTS,
  addressCount,
  addressToWire,
  commWayCount,
  commWayPlan,
  commWayToWire,
  contactCreate,
  contactDisplayName,
  contactToWire,
  contactUpdate,
  generateAddresses,
  generateCommWays,
  generateContact,
  kindOf,
  parentIndexOf,
  type AddressData,
  type CommWayData,
  type ContactData,
  type World,
} from './contacts';
import { SandboxError, notFound } from './errors';
import { COMMUNICATION_WAY_KEYS, COUNTRIES, EXCHANGE_RATES, countryById } from './german-data';
import { IdSpace } from './ids';
import {
  InvoiceFactory,
  PAYMENT_METHODS,
  addressBlock,
  applyAmounts,
  blankInvoice,
  buildCancellation,
  buildInvoiceColumns,
  grossOf,
  invoiceHeader,
  nextNumber,
  plainInvoice,
  ref,
  taxRuleFor,
  type Amounts,
  type ContactSummary,
} from './invoices';
import { centsToNumber, parseCents, taxCents } from './money';
import { Stream } from './random';
import type {
  CommunicationWay,
  CommunicationWayKey,
  CommunicationWayType,
  Contact,
  ContactAddress,
  Invoice,
  InvoiceStatus,
  InvoiceType,
  StaticCountry,
} from './types';

export interface GenerateOptions {
  invoices: number;
  /** Default: invoices / 8, at least 5. */
  contacts?: number;
  /** End of the generated history. Default 2026-11-01 (fixed, so that a seed always gives the same data). */
  until?: Date;
  /** Length of the generated history in years. Default 6. */
  years?: number;
}

/** Objects whose wire fields can be poisoned (see SandboxStore.setPoison). */
export const POISON_OBJECTS = ['Invoice', 'Contact', 'CommunicationWay', 'ContactAddress'] as const;
export type PoisonObject = (typeof POISON_OBJECTS)[number];

export interface StoreOptions {
  seed?: number;
  data?: GenerateOptions;
  /** Clock for the create/update stamps of mutations. */
  now?: () => Date;
  /** The sevDesk company (SevClient) every object belongs to; default 1234567 as in the fixtures. */
  sevClientId?: string;
}

export interface AddContactInput {
  kind: 'person' | 'organisation';
  name?: string;
  surename?: string;
  familyname?: string;
  academicTitle?: string;
  parentId?: string;
  emails?: { value: string; main?: boolean; key?: number }[];
  phones?: string[];
  mobiles?: string[];
  address?: AddressInput;
}

export interface AddressInput {
  street: string;
  zip: string;
  city: string;
  countryId?: string;
}

export interface AddInvoiceInput {
  contactId: string;
  invoiceType?: 'RE' | 'AR' | 'TR' | 'ER' | 'WKR' | 'MA';
  status?: '100' | '200' | '750' | '1000';
  /** EUR net amount as a decimal string; default "100". */
  sumNet?: string;
  taxRate?: 0 | 7 | 19;
  currency?: string;
  invoiceDate?: Date;
  timeToPay?: number;
  paidAmount?: string;
  /**
   * ER only: the advance (AR) and partial (TR) invoices it settles. `sumNet` is then the order's full net
   * amount, and the final invoice deducts what those invoiced (net and tax), as sevDesk's Schlussrechnung
   * does [GUESS: sevDesk's help says a final invoice can be for "0,00 € Restforderung", German VAT law
   * requires the deduction; no recorded ER shows it]: its sums are what is left, never below zero.
   */
  advanceInvoiceIds?: string[];
  /** MA only: the reminder fee (`reminderCharge`), a decimal string; default "0". */
  reminderCharge?: string;
}

export interface ContactPatch {
  name?: string | null;
  surename?: string | null;
  familyname?: string | null;
  academicTitle?: string | null;
  titel?: string | null;
  description?: string | null;
  vatNumber?: string | null;
  address?: AddressInput;
}

export interface Page<T> {
  items: T[];
  /** Number of all matches; only computed when asked for (countAll). */
  total?: number;
}

export interface PageRequest {
  offset: number;
  limit: number;
  countAll: boolean;
}

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

/**
 * Behaviours sevDesk has not pinned down (issue 10), one knob each; the defaults are the kind ones.
 * - listOrder: the undocumented default order of GET /Invoice: by id ascending or descending, by `update`
 *   (oldest first), or by id with every page's rows shuffled per request [all GUESS].
 * - hideWithoutShowAll: without `showAll=true`, cancellation invoices (SR) are left out of lists [GUESS].
 */
export interface SandboxKnobs {
  listOrder: 'id-asc' | 'id-desc' | 'update' | 'shuffled';
  hideWithoutShowAll: boolean;
  /** Added to every invoice list's `total` (countAll): a count one higher than the rows served [GUESS]. */
  totalExtra: number;
  /**
   * A foreign-currency invoice's sumNet/sumGross in its own currency, only the *Accounting sums in EUR
   * [GUESS: the spec says "usually the same as sumGross"; which one holds the base currency is unknown].
   */
  foreignSumsInOwnCurrency: boolean;
}

export interface ContactFilter {
  /** false (depth=0, the API default): organisations only. */
  includePersons: boolean;
  customerNumber?: string;
  parentId?: string;
  updateAfter?: number;
  updateBefore?: number;
  createAfter?: number;
  createBefore?: number;
}

export interface CommunicationWayFilter {
  contactId?: string;
  type?: string;
  main?: string;
}

export interface AddressFilter {
  contactId?: string;
}

const DAY = 86400;
const DEFAULT_UNTIL = new Date('2026-11-01T00:00:00+01:00');
const INVOICE_ID_BASE = 140_000_000;
const CONTACT_ID_BASE = 98_000_000;

/** Per-contact facts used by filters, in typed arrays like the invoice columns. */
class ContactColumns {
  length = 0;
  person = new Uint8Array(0);
  parent = new Int32Array(0);
  create = new Uint32Array(0);
  update = new Uint32Array(0);

  reserve(capacity: number): void {
    if (capacity <= this.person.length) return;
    const person = new Uint8Array(capacity);
    person.set(this.person);
    const parent = new Int32Array(capacity);
    parent.set(this.parent);
    const create = new Uint32Array(capacity);
    create.set(this.create);
    const update = new Uint32Array(capacity);
    update.set(this.update);
    Object.assign(this, { person, parent, create, update });
  }

  push(): number {
    if (this.length === this.person.length) this.reserve(Math.max(16, this.length * 2));
    return this.length++;
  }
}

/**
 * The sandbox's data: generated lazily from the seed (invoice i and contact c are pure functions of
 * (seed, i)), with mutated or added objects kept as overrides and deletions as a set. Usable without HTTP,
 * e.g. to compute the expected result of a sync in a test.
 */
export class SandboxStore {
  readonly seed: number;
  readonly world: World;
  private readonly now: () => Date;
  private readonly invoiceIds: IdSpace;
  private readonly contactIds: IdSpace;
  private readonly columns: InvoiceColumns;
  private readonly sequences: Map<string, number>;
  private readonly factory: InvoiceFactory;
  private readonly invoiceOverrides = new Map<number, Invoice>();
  private readonly deleted = new Set<number>();
  private deletedSorted: number[] = [];

  private readonly baseContacts: number;
  private readonly contactColumns = new ContactColumns();
  private readonly contactOverrides = new Map<number, ContactData>();
  private readonly wayOverrides = new Map<number, CommWayData[]>();
  private readonly addressOverrides = new Map<number, AddressData[]>();
  private readonly summaryCache = new Map<number, ContactSummary>();
  private wayPrefix: Uint32Array | null = null;
  private addressPrefix: Uint32Array | null = null;

  constructor(options: StoreOptions = {}) {
    this.seed = options.seed ?? 1;
    this.now = options.now ?? (() => new Date());
    const data = options.data ?? { invoices: 120, contacts: 40 };
    if (!Number.isInteger(data.invoices) || data.invoices < 0)
      throw new Error('invoices must be an integer >= 0');
    const contacts = data.contacts ?? Math.max(5, Math.round(data.invoices / 8));
    if (!Number.isInteger(contacts) || contacts < 1) throw new Error('contacts must be an integer >= 1');
    const until = toUnixSeconds(data.until ?? DEFAULT_UNTIL);
    const from = berlinMidnight(until - Math.round((data.years ?? 6) * 365 * DAY));
    this.world = {
      seed: this.seed,
      from,
      until,
      contacts,
      invoices: data.invoices,
      sevClient: { id: options.sevClientId ?? '1234567', objectName: 'SevClient' },
    };
    this.invoiceIds = new IdSpace({
      seed: this.seed,
      stream: Stream.invoiceId,
      base: INVOICE_ID_BASE,
      stride: 4,
    });
    this.contactIds = new IdSpace({
      seed: this.seed,
      stream: Stream.contactId,
      base: CONTACT_ID_BASE,
      stride: 4,
    });

    this.baseContacts = contacts;
    this.contactColumns.reserve(contacts + 16);
    for (let c = 0; c < contacts; c++) {
      this.contactColumns.push();
      const create = contactCreate(this.world, c);
      this.contactColumns.person[c] = kindOf(this.seed, c) === 'person' ? 1 : 0;
      this.contactColumns.parent[c] = parentIndexOf(this.seed, c);
      this.contactColumns.create[c] = create;
      this.contactColumns.update[c] = contactUpdate(this.world, c, create);
    }

    const built = buildInvoiceColumns(this.world);
    this.columns = built.columns;
    this.sequences = built.sequences;
    this.factory = new InvoiceFactory({
      world: this.world,
      columns: this.columns,
      invoiceId: (i) => this.invoiceIds.id(i),
      contactId: (c) => this.contactIds.id(c),
      summary: (c) => this.baseSummary(c),
    });
  }

  // ---- invoices: reads ----

  invoiceCount(): number {
    return this.columns.length - this.deleted.size;
  }

  getInvoice(id: string): Invoice | undefined {
    const i = this.invoiceIndex(id);
    return i === undefined ? undefined : plainInvoice(this.servedInvoice(i));
  }

  /** All current invoices in ascending id order, built one at a time. */
  *invoices(): Iterable<Invoice> {
    for (let i = 0; i < this.columns.length; i++) {
      if (this.deleted.size > 0 && this.deleted.has(i)) continue;
      yield plainInvoice(this.servedInvoice(i));
    }
  }

  /**
   * One page of invoices in ascending id order (the sandbox's choice: sevDesk's default order is
   * undocumented, API-NOTES §4). Returns the stored objects, not copies, for speed: treat them as read-only.
   */
  readonly knobs: SandboxKnobs = {
    listOrder: 'id-asc',
    hideWithoutShowAll: false,
    totalExtra: 0,
    foreignSumsInOwnCurrency: false,
  };

  queryInvoices(filter: InvoiceFilter, page: PageRequest): Page<Invoice> {
    const result = this.queryInvoicesRaw(filter, page);
    return result.total === undefined || this.knobs.totalExtra === 0
      ? result
      : { ...result, total: result.total + this.knobs.totalExtra };
  }

  private queryInvoicesRaw(filter: InvoiceFilter, page: PageRequest): Page<Invoice> {
    const hideSr = this.knobs.hideWithoutShowAll && filter.showAll !== true;
    if (hideSr || this.knobs.listOrder !== 'id-asc') return this.queryInvoicesKnobbed(filter, page, hideSr);
    const { showAll: _showAll, ...rest } = filter;
    const active = Object.entries(rest).some(([, v]) => v !== undefined);
    if (!active) {
      const total = this.invoiceCount();
      const items: Invoice[] = [];
      for (
        let i = this.nthLiveInvoice(page.offset);
        i < this.columns.length && items.length < page.limit;
        i++
      ) {
        if (this.deleted.size > 0 && this.deleted.has(i)) continue;
        items.push(this.servedInvoice(i));
      }
      return page.countAll ? { items, total } : { items };
    }
    const match = this.invoicePredicate(filter);
    if (filter.orderByInvoiceNumber) {
      const all: number[] = [];
      for (let i = 0; i < this.columns.length; i++) if (match(i)) all.push(i);
      const dir = filter.orderByInvoiceNumber === 'DESC' ? -1 : 1;
      all.sort((a, b) => dir * this.compareNumbers(a, b));
      const items = all.slice(page.offset, page.offset + page.limit).map((i) => this.servedInvoice(i));
      return page.countAll ? { items, total: all.length } : { items };
    }
    return this.scan(this.columns.length, match, page, (i) => this.servedInvoice(i));
  }

  /** The same list under the knobs: every match collected, ordered as the knob says, then paged. */
  private queryInvoicesKnobbed(filter: InvoiceFilter, page: PageRequest, hideSr: boolean): Page<Invoice> {
    const { showAll: _showAll, ...rest } = filter;
    const match = this.invoicePredicate(rest);
    const all: number[] = [];
    for (let i = 0; i < this.columns.length; i++) {
      if (this.deleted.size > 0 && this.deleted.has(i)) continue;
      if (!match(i)) continue;
      if (hideSr && this.servedInvoice(i).invoiceType === 'SR') continue;
      all.push(i);
    }
    const order = this.knobs.listOrder;
    if (filter.orderByInvoiceNumber) {
      const dir = filter.orderByInvoiceNumber === 'DESC' ? -1 : 1;
      all.sort((a, b) => dir * this.compareNumbers(a, b));
    } else if (order === 'id-desc') all.reverse();
    else if (order === 'update')
      all.sort((a, b) => (this.columns.update[a] ?? 0) - (this.columns.update[b] ?? 0) || a - b);
    const picked = all.slice(page.offset, page.offset + page.limit);
    if (order === 'shuffled') {
      for (let k = picked.length - 1; k > 0; k--) {
        const j = Math.floor(Math.random() * (k + 1));
        [picked[k], picked[j]] = [picked[j]!, picked[k]!];
      }
    }
    const items = picked.map((i) => this.servedInvoice(i));
    return page.countAll ? { items, total: all.length } : { items };
  }

  // ---- invoices: mutations ----

  addInvoice(input: AddInvoiceInput): Invoice {
    const contactIndex = this.requireContact(input.contactId);
    const type: InvoiceType = input.invoiceType ?? 'RE';
    const status: InvoiceStatus = input.status ?? '200';
    const net = parseCents(input.sumNet ?? '100');
    if (net === undefined || net < 0)
      throw badRequest(`sumNet must be a non-negative decimal string, got ${input.sumNet}`);
    const taxRate = input.taxRate ?? 19;
    const currency = input.currency ?? 'EUR';
    const rate = EXCHANGE_RATES[currency];
    if (currency !== 'EUR' && rate === undefined) throw badRequest(`unsupported currency ${currency}`);
    const foreignNet = rate === undefined ? 0 : Math.round(net * rate);
    const amounts: Amounts = {
      currency,
      taxRate,
      net,
      tax: taxCents(net, taxRate),
      foreignNet,
      foreignTax: taxCents(foreignNet, taxRate),
    };
    if (input.advanceInvoiceIds?.length)
      this.deductAdvances(type, currency, amounts, input.advanceInvoiceIds);
    const gross = grossOf(amounts);
    let paid = 0;
    if (status === '1000') paid = gross;
    if (status === '750') {
      const given = input.paidAmount === undefined ? Math.round(gross / 2) : parseCents(input.paidAmount);
      if (given === undefined || given <= 0 || given >= gross) {
        throw badRequest('paidAmount of a partially paid invoice must be between 0 and sumGross');
      }
      paid = given;
    }

    const now = this.nowSeconds();
    const i = this.columns.push();
    const summary = this.currentSummary(contactIndex);
    const invoice = blankInvoice({
      id: this.invoiceIds.id(i),
      type,
      contactId: this.contactIds.id(contactIndex),
      sevClient: this.world.sevClient,
      summary,
      create: now,
      paymentMethod: ref('PaymentMethod', PAYMENT_METHODS.transfer),
    });
    applyAmounts(invoice, amounts);
    const { taxRule, taxText } = taxRuleFor({ taxRate, countryId: summary.countryId });
    invoice.taxRule = ref('TaxRule', taxRule);
    invoice.taxText = taxText;
    const invoiceDate = berlinMidnight(input.invoiceDate ? toUnixSeconds(input.invoiceDate) : now);
    invoice.invoiceDate = berlinDayIso(invoiceDate);
    invoice.deliveryDate = invoice.invoiceDate;
    invoice.timeToPay = String(input.timeToPay ?? 14);
    invoice.status = status;
    invoice.paidAmount = centsToNumber(paid);
    if (paid > 0) invoice.payDate = berlinDayIso(now);
    if (type === 'MA') {
      invoice.dunningLevel = '1';
      invoice.reminderTotal = invoice.sumGross;
      invoice.reminderDebit = invoice.sumGross;
      invoice.reminderDeadline = berlinIso(invoiceDate + 14 * DAY);
      invoice.reminderCharge = input.reminderCharge ?? '0';
    }
    if (type === 'WKR') {
      invoice.accountIntervall = 'P1M';
      invoice.accountStartDate = invoice.invoiceDate;
    }

    const c = this.columns;
    c.type[i] = TYPE[type];
    c.status[i] = STATUS[status];
    c.contact[i] = contactIndex;
    c.create[i] = now;
    c.update[i] = now;
    c.invoiceDate[i] = invoiceDate;
    if (status !== '100') this.enshrine({ i, invoice, now });
    this.invoiceOverrides.set(i, invoice);
    return plainInvoice(invoice);
  }

  /** An ER's amounts less those of the advance and partial invoices it settles (see AddInvoiceInput). */
  private deductAdvances(type: InvoiceType, currency: string, amounts: Amounts, ids: string[]): void {
    if (type !== 'ER') throw badRequest('only a final invoice (ER) deducts advance invoices');
    if (currency !== 'EUR') throw badRequest('a final invoice with advance invoices must be in EUR');
    for (const id of ids) {
      const advance = this.getInvoice(id);
      if (!advance || (advance.invoiceType !== 'AR' && advance.invoiceType !== 'TR')) {
        throw badRequest(`invoice ${id} is not an advance (AR) or partial (TR) invoice`);
      }
      amounts.net -= parseCents(advance.sumNet) ?? 0;
      amounts.tax -= parseCents(advance.sumTax) ?? 0;
    }
    if (amounts.net < 0 || amounts.tax < 0) {
      throw badRequest('the advance invoices exceed the order: a final invoice is never below zero');
    }
  }

  /** Draft → open (200) with the next number, as sending it would do. */
  finalizeInvoice(id: string): Invoice {
    const i = this.requireInvoice(id);
    const invoice = this.mutableInvoice(i);
    // [GUESS] error for finalising a non-draft: not measured.
    if (invoice.status !== '100')
      throw new SandboxError({ status: 422, code: null, message: 'Invoice is not a draft' });
    const now = this.nowSeconds();
    invoice.status = '200';
    this.columns.status[i] = STATUS['200'];
    this.enshrine({ i, invoice, now });
    this.touchInvoice(i, invoice, now);
    return plainInvoice(invoice);
  }

  /**
   * A payment: the full remainder (→ 1000) or a part (→ 750, paidAmount increased). `stamp: false` books it
   * without an `update` bump [GUESS: whether sevDesk bumps it on every payment path is not documented].
   */
  payInvoice(id: string, amount?: string, opts: { stamp?: boolean } = {}): Invoice {
    const i = this.requireInvoice(id);
    const invoice = this.mutableInvoice(i);
    // [GUESS] HTTP statuses of these refusals; code 750 "already paid" is measured (API-NOTES §2).
    if (invoice.status === '1000')
      throw new SandboxError({ status: 422, code: 750, message: 'Invoice is already paid' });
    if (invoice.invoiceType === 'WKR' || invoice.invoiceType === 'SR' || invoice.status === '100') {
      throw new SandboxError({ status: 422, code: null, message: 'Invoice can not be paid' });
    }
    const gross = parseCents(invoice.sumGross) ?? 0;
    const paid = Math.round(invoice.paidAmount * 100);
    const remaining = gross - paid;
    const pay = amount === undefined ? remaining : parseCents(amount);
    if (pay === undefined || pay <= 0 || pay > remaining) {
      throw badRequest(`amount must be a decimal string between 0 and the open amount ${remaining / 100}`);
    }
    const now = this.nowSeconds();
    const total = paid + pay;
    invoice.paidAmount = centsToNumber(total);
    invoice.status = total === gross ? '1000' : '750';
    invoice.payDate = berlinDayIso(now);
    this.columns.status[i] = STATUS[invoice.status];
    if (opts.stamp !== false) this.touchInvoice(i, invoice, now);
    return plainInvoice(invoice);
  }

  /**
   * Cancels an invoice exactly as measured (API-NOTES §6): a new SR (status 1000, origin ref, sums negated,
   * number from the RE sequence) and the original set to status 1000, paidAmount 0, update = now.
   */
  cancelInvoice(id: string): Invoice {
    const i = this.requireInvoice(id);
    const original = this.invoiceAt(i);
    if ((this.columns.cancelledBy[i] ?? -1) >= 0) {
      throw new SandboxError({ status: 422, code: 421, message: 'Invoice has already been cancelled' });
    }
    if (original.status === '750') {
      // Measured: this refusal arrives with HTTP 200 (API-NOTES §2, §6).
      throw new SandboxError({
        status: 200,
        code: 390,
        message: 'Invoice is partially paid and can not be cancelled',
      });
    }
    // [GUESS] refusing drafts, templates, reminders and cancellations themselves: not measured.
    if (original.status === '100' || ['SR', 'WKR', 'MA'].includes(original.invoiceType)) {
      throw new SandboxError({ status: 422, code: null, message: 'Invoice can not be cancelled' });
    }
    const now = this.nowSeconds();
    const s = this.columns.push();
    const number = nextNumber(this.sequences, 'RE');
    const sr = buildCancellation({ original, id: this.invoiceIds.id(s), number: `RE-${number}`, at: now });
    const c = this.columns;
    c.type[s] = TYPE.SR;
    c.status[s] = STATUS['1000'];
    c.contact[s] = c.contact[i] ?? 0;
    c.create[s] = now;
    c.update[s] = now;
    c.invoiceDate[s] = now;
    c.number[s] = number;
    c.origin[s] = i;
    c.cancelledBy[i] = s;
    this.invoiceOverrides.set(s, sr);

    const updated = this.mutableInvoice(i);
    updated.status = '1000';
    updated.paidAmount = 0;
    c.status[i] = STATUS['1000'];
    this.touchInvoice(i, updated, now);
    return plainInvoice(sr);
  }

  /** Deletes a draft; anything else is refused with 409/159 like sevDesk. */
  deleteInvoice(id: string): void {
    const i = this.requireInvoice(id);
    if (this.columns.status[i] !== STATUS['100']) {
      throw new SandboxError({
        status: 409,
        code: 159,
        message: 'Invoice is not deletable, because it is not a draft',
      });
    }
    this.deleted.add(i);
    const at = this.deletedSorted.findIndex((d) => d > i);
    if (at === -1) this.deletedSorted.push(i);
    else this.deletedSorted.splice(at, 0, i);
    this.invoiceOverrides.delete(i);
  }

  // ---- contacts: reads ----

  contactCount(): number {
    return this.contactColumns.length;
  }

  contact(id: string): Contact | undefined {
    const c = this.contactIndex(id);
    return c === undefined ? undefined : this.contactWire(c);
  }

  *contacts(): Iterable<Contact> {
    for (let c = 0; c < this.contactColumns.length; c++) yield this.contactWire(c);
  }

  communicationWays(contactId: string): CommunicationWay[] {
    const c = this.contactIndex(contactId);
    return c === undefined ? [] : this.waysWire(c);
  }

  addresses(contactId: string): ContactAddress[] {
    const c = this.contactIndex(contactId);
    return c === undefined ? [] : this.addressesWire(c);
  }

  communicationWayById(id: string): CommunicationWay | undefined {
    const c = this.ownerOf(id, COMM_WAY_ID_BASE, COMM_WAY_SLOTS);
    return c === undefined ? undefined : this.waysWire(c).find((w) => w.id === id);
  }

  addressById(id: string): ContactAddress | undefined {
    const c = this.ownerOf(id, ADDRESS_ID_BASE, ADDRESS_SLOTS);
    return c === undefined ? undefined : this.addressesWire(c).find((a) => a.id === id);
  }

  queryContacts(filter: ContactFilter, page: PageRequest): Page<Contact> {
    const cc = this.contactColumns;
    const parent = filter.parentId === undefined ? undefined : (this.contactIndex(filter.parentId) ?? -2);
    let only: number | undefined;
    if (filter.customerNumber !== undefined) {
      const n = Number(filter.customerNumber) - 1000;
      only = Number.isInteger(n) && n >= 0 && String(n + 1000) === filter.customerNumber ? n : -1;
    }
    const match = (c: number): boolean =>
      (filter.includePersons || cc.person[c] === 0) &&
      (only === undefined || c === only) &&
      (parent === undefined || cc.parent[c] === parent) &&
      (filter.updateAfter === undefined || (cc.update[c] ?? 0) > filter.updateAfter) &&
      (filter.updateBefore === undefined || (cc.update[c] ?? 0) < filter.updateBefore) &&
      (filter.createAfter === undefined || (cc.create[c] ?? 0) > filter.createAfter) &&
      (filter.createBefore === undefined || (cc.create[c] ?? 0) < filter.createBefore);
    const unfiltered =
      filter.includePersons &&
      Object.entries(filter).every(([k, v]) => k === 'includePersons' || v === undefined);
    if (unfiltered) {
      const items: Contact[] = [];
      for (let c = page.offset; c < cc.length && items.length < page.limit; c++)
        items.push(this.contactWire(c));
      return page.countAll ? { items, total: cc.length } : { items };
    }
    return this.scan(cc.length, match, page, (c) => this.contactWire(c));
  }

  queryCommunicationWays(filter: CommunicationWayFilter, page: PageRequest): Page<CommunicationWay> {
    const prefix = this.prefix('ways');
    return this.queryPerContact({
      contactId: filter.contactId,
      prefix,
      page,
      list: (c) => this.waysWire(c),
      match:
        filter.type === undefined && filter.main === undefined
          ? undefined
          : (w) =>
              (filter.type === undefined || w.type === filter.type) &&
              (filter.main === undefined || w.main === filter.main),
    });
  }

  queryAddresses(filter: AddressFilter, page: PageRequest): Page<ContactAddress> {
    return this.queryPerContact({
      contactId: filter.contactId,
      prefix: this.prefix('addresses'),
      page,
      list: (c) => this.addressesWire(c),
    });
  }

  countries(): StaticCountry[] {
    return COUNTRIES.map((c) => ({
      id: c.id,
      objectName: 'StaticCountry',
      code: c.code,
      name: c.name,
      nameEn: c.nameEn,
      translationCode: `COUNTRY_${c.code.toUpperCase()}`,
      locale: c.locale,
      priority: c.priority,
    }));
  }

  communicationWayKeys(): CommunicationWayKey[] {
    const stamp = berlinIso(toUnixSeconds(new Date('2014-01-01T00:00:00+01:00')));
    return COMMUNICATION_WAY_KEYS.map(([id, name, translationCode]) => ({
      id,
      objectName: 'CommunicationWayKey',
      create: stamp,
      update: stamp,
      name,
      translationCode,
    }));
  }

  // ---- contacts: mutations ----

  addContact(input: AddContactInput): string {
    const now = this.nowSeconds();
    let parentIndex = -1;
    if (input.parentId !== undefined) {
      parentIndex = this.requireContact(input.parentId);
      if (this.contactData(parentIndex).kind !== 'organisation')
        throw badRequest('parent must be an organisation');
      if (input.kind !== 'person') throw badRequest('only persons can have a parent');
    }
    if (input.kind === 'organisation' && !input.name) throw badRequest('an organisation needs a name');
    if (input.kind === 'person' && !input.surename && !input.familyname) {
      throw badRequest('a person needs a surename or a familyname');
    }
    const countryId = input.address?.countryId ?? '1';
    const country = countryById(countryId);
    if (!country) throw badRequest(`unknown StaticCountry ${countryId}`);

    const cc = this.contactColumns;
    const c = cc.push();
    cc.person[c] = input.kind === 'person' ? 1 : 0;
    cc.parent[c] = parentIndex;
    cc.create[c] = now;
    cc.update[c] = now;
    this.contactOverrides.set(c, {
      index: c,
      kind: input.kind,
      parentIndex,
      create: now,
      update: now,
      name: input.kind === 'organisation' ? (input.name ?? null) : null,
      surename: input.kind === 'person' ? (input.surename ?? null) : null,
      familyname: input.kind === 'person' ? (input.familyname ?? null) : null,
      academicTitle: input.academicTitle ?? null,
      titel: null,
      status: '1000',
      customerNumber: String(1000 + c),
      categoryId: '3',
      description: null,
      vatNumber: null,
      bankAccount: null,
      taxNumber: null,
      defaultTimeToPay: null,
      defaultDiscountPercentage: '0',
      governmentAgency: '0',
      buyerReference: null,
      defaultShowVat: '1',
      birthday: null,
      domain: '',
      countryCode: country.code,
    });
    const ways: CommWayData[] = [];
    const add = (type: CommunicationWayType, value: string, keyId: string, main: boolean): void => {
      ways.push({ slot: ways.length, type, value, keyId, main, create: now, update: now });
    };
    const emails = input.emails ?? [];
    const anyMain = emails.some((e) => e.main !== undefined);
    emails.forEach((e, n) => {
      const main = anyMain ? e.main === true : n === 0;
      add('EMAIL', e.value, String(e.key ?? (input.kind === 'person' ? 1 : 2)), main);
    });
    (input.phones ?? []).forEach((p, n) => add('PHONE', p, '2', n === 0));
    (input.mobiles ?? []).forEach((p, n) => add('MOBILE', p, '4', n === 0));
    if (ways.length > COMM_WAY_SLOTS)
      throw badRequest(`at most ${COMM_WAY_SLOTS} communication ways per contact`);
    this.wayOverrides.set(c, ways);
    this.addressOverrides.set(
      c,
      input.address
        ? [{ slot: 0, ...input.address, countryId, categoryId: '47', name: null, create: now, update: now }]
        : [],
    );
    this.invalidatePrefixes();
    return this.contactIds.id(c);
  }

  /**
   * Sets or replaces the main EMAIL way; null removes all e-mails. Bumps the contact's `update` unless `stamp`
   * is false (whether sevDesk bumps it when a CommunicationWay changes is unknown).
   */
  setContactEmail(contactId: string, email: string | null, opts: { stamp?: boolean } = {}): void {
    const c = this.requireContact(contactId);
    const now = this.nowSeconds();
    let ways = this.commWayData(c).map((w) => ({ ...w }));
    if (email === null) {
      ways = ways.filter((w) => w.type !== 'EMAIL');
    } else {
      const main = ways.find((w) => w.type === 'EMAIL' && w.main);
      if (main) {
        main.value = email;
        main.update = now;
      } else {
        const slot = this.nextSlot(
          ways.map((w) => w.slot),
          COMM_WAY_SLOTS,
        );
        const keyId =
          this.contactData(c).kind === 'person' && this.contactData(c).parentIndex < 0 ? '1' : '2';
        ways.push({ slot, type: 'EMAIL', value: email, keyId, main: true, create: now, update: now });
        ways.sort((a, b) => a.slot - b.slot);
      }
    }
    this.wayOverrides.set(c, ways);
    this.invalidatePrefixes();
    if (opts.stamp ?? true) this.touchContact(c, now);
  }

  updateContact(contactId: string, patch: ContactPatch): Contact {
    const c = this.requireContact(contactId);
    const now = this.nowSeconds();
    const data = { ...this.contactData(c) };
    const { address, ...fields } = patch;
    for (const [key, value] of Object.entries(fields)) {
      if (value !== undefined) (data as unknown as Record<string, unknown>)[key] = value;
    }
    this.contactOverrides.set(c, data);
    if (address) {
      const countryId = address.countryId ?? '1';
      if (!countryById(countryId)) throw badRequest(`unknown StaticCountry ${countryId}`);
      const list = this.addressData(c).map((a) => ({ ...a }));
      const first = list[0];
      if (first) Object.assign(first, { ...address, countryId, update: now });
      else
        list.push({ slot: 0, ...address, countryId, categoryId: '47', name: null, create: now, update: now });
      this.addressOverrides.set(c, list);
      this.invalidatePrefixes();
    }
    this.touchContact(c, now);
    return this.contactWire(c);
  }

  // ---- internals ----

  private nowSeconds(): number {
    return toUnixSeconds(this.now());
  }

  private invoiceIndex(id: string): number | undefined {
    const i = this.invoiceIds.index(id);
    if (i === undefined || i >= this.columns.length || this.deleted.has(i)) return undefined;
    return i;
  }

  private requireInvoice(id: string): number {
    const i = this.invoiceIndex(id);
    if (i === undefined) throw notFound('Invoice', id);
    return i;
  }

  private contactIndex(id: string): number | undefined {
    const c = this.contactIds.index(id);
    return c === undefined || c >= this.contactColumns.length ? undefined : c;
  }

  private requireContact(id: string): number {
    const c = this.contactIndex(id);
    if (c === undefined) throw notFound('Contact', id);
    return c;
  }

  // ---- poison records: raw wire fields served over the real ones (tests and the fault campaign) ----

  private readonly poison = new Map<string, Record<string, unknown>>();

  /**
   * Serves `fields` in place of the wire values of one object (e.g. `sumGross: "1000000000000000"`, a name
   * with a NUL character, `timeToPay: ""`) on every read until cleared (`null`). The stored data is unchanged,
   * so mutations keep working on the real values.
   */
  setPoison(objectName: PoisonObject, id: string, fields: Record<string, unknown> | null): void {
    if (fields === null) this.poison.delete(`${objectName}:${id}`);
    else this.poison.set(`${objectName}:${id}`, { ...fields });
  }

  clearPoison(): void {
    this.poison.clear();
  }

  poisonedObjects(): { objectName: string; id: string; fields: Record<string, unknown> }[] {
    return [...this.poison].map(([key, fields]) => {
      const at = key.indexOf(':');
      return { objectName: key.slice(0, at), id: key.slice(at + 1), fields };
    });
  }

  private poisoned<T extends { id: string }>(objectName: PoisonObject, wire: T): T {
    if (this.poison.size === 0) return wire;
    const fields = this.poison.get(`${objectName}:${wire.id}`);
    return fields ? ({ ...wire, ...fields } as T) : wire;
  }

  private servedInvoice(i: number): Invoice {
    const invoice = this.invoiceAt(i);
    const own = this.knobs.foreignSumsInOwnCurrency && invoice.currency !== 'EUR';
    return this.poisoned(
      'Invoice',
      own
        ? { ...invoice, sumNet: invoice.sumNetForeignCurrency, sumGross: invoice.sumGrossForeignCurrency }
        : invoice,
    );
  }

  /** The stored or generated invoice; not a copy, so callers must not change it. */
  private invoiceAt(i: number): Invoice {
    return this.invoiceOverrides.get(i) ?? this.factory.build(i);
  }

  private mutableInvoice(i: number): Invoice {
    let invoice = this.invoiceOverrides.get(i);
    if (!invoice) {
      invoice = this.factory.build(i);
      this.invoiceOverrides.set(i, invoice);
    }
    return invoice;
  }

  private touchInvoice(i: number, invoice: Invoice, now: number): void {
    invoice.update = berlinIso(now);
    this.columns.update[i] = now;
  }

  private enshrine({ i, invoice, now }: { i: number; invoice: Invoice; now: number }): void {
    const type = invoice.invoiceType;
    const n = nextNumber(this.sequences, numberPrefix(type));
    this.columns.number[i] = n;
    invoice.invoiceNumber = `${numberPrefix(type)}-${n}`;
    invoice.header = invoiceHeader(type, invoice.invoiceNumber);
    invoice.sendType = 'VPDF';
    invoice.sendDate = berlinIso(now);
    invoice.enshrined = berlinIso(now);
  }

  /** The index of the live invoice at position p in id order: skips the (few) deleted indices. */
  private nthLiveInvoice(p: number): number {
    let i = p;
    for (const d of this.deletedSorted) {
      if (d <= i) i++;
      else break;
    }
    return i;
  }

  private invoicePredicate(f: InvoiceFilter): (i: number) => boolean {
    const c = this.columns;
    const statusCode = f.status === undefined ? undefined : (STATUS[f.status as InvoiceStatus] ?? -1);
    const typeCode = f.invoiceType === undefined ? undefined : (TYPE[f.invoiceType as InvoiceType] ?? -1);
    const contact = f.contactId === undefined ? undefined : (this.contactIndex(f.contactId) ?? -2);
    const origin = f.originId === undefined ? undefined : (this.invoiceIndex(f.originId) ?? -2);
    let number: { prefix: string; n: number } | undefined;
    if (f.invoiceNumber !== undefined) {
      const m = /^([A-Z]+)-(\d{1,9})$/.exec(f.invoiceNumber);
      number = m?.[1] && m[2] ? { prefix: m[1], n: Number(m[2]) } : { prefix: '', n: -2 };
    }
    return (i) => {
      if (this.deleted.size > 0 && this.deleted.has(i)) return false;
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

  /** Invoice-number order [GUESS]: by prefix, then numerically; drafts (no number) last in ASC, first in DESC. */
  private compareNumbers(a: number, b: number): number {
    const c = this.columns;
    const na = c.number[a] ?? -1;
    const nb = c.number[b] ?? -1;
    if (na < 0 || nb < 0) return na < 0 && nb < 0 ? a - b : na < 0 ? 1 : -1;
    const pa = numberPrefix(typeName(c.type[a] ?? 0));
    const pb = numberPrefix(typeName(c.type[b] ?? 0));
    return pa === pb ? na - nb : pa < pb ? -1 : 1;
  }

  /** A filtered scan that stops early unless the total is wanted. */
  private scan<T>(
    length: number,
    match: (i: number) => boolean,
    page: PageRequest,
    build: (i: number) => T,
  ): Page<T> {
    const items: T[] = [];
    let seen = 0;
    for (let i = 0; i < length; i++) {
      if (!match(i)) continue;
      if (seen >= page.offset && items.length < page.limit) items.push(build(i));
      seen++;
      if (!page.countAll && items.length >= page.limit) break;
    }
    return page.countAll ? { items, total: seen } : { items };
  }

  private contactData(c: number): ContactData {
    return this.contactOverrides.get(c) ?? generateContact(this.world, c);
  }

  private commWayData(c: number): CommWayData[] {
    return (
      this.wayOverrides.get(c) ??
      (c < this.baseContacts ? generateCommWays(this.world, generateContact(this.world, c)) : [])
    );
  }

  private addressData(c: number): AddressData[] {
    return (
      this.addressOverrides.get(c) ??
      (c < this.baseContacts ? generateAddresses(this.world, generateContact(this.world, c)) : [])
    );
  }

  private contactWire(c: number): Contact {
    const data = this.contactData(c);
    const parentIndex = this.contactColumns.parent[c] ?? -1;
    const wire = contactToWire({
      contact: data,
      id: this.contactIds.id(c),
      parentId: parentIndex >= 0 ? this.contactIds.id(parentIndex) : null,
      sevClient: this.world.sevClient,
    });
    wire.update = berlinIso(this.contactColumns.update[c] ?? data.update);
    return this.poisoned('Contact', wire);
  }

  private waysWire(c: number): CommunicationWay[] {
    const owner = this.partOwner(c);
    return this.commWayData(c).map((way) =>
      this.poisoned('CommunicationWay', commWayToWire({ way, ...owner })),
    );
  }

  private addressesWire(c: number): ContactAddress[] {
    const owner = this.partOwner(c);
    return this.addressData(c).map((address) =>
      this.poisoned('ContactAddress', addressToWire({ address, ...owner })),
    );
  }

  /** The owner of contact `c`'s ways and addresses, as their wire objects name it. */
  private partOwner(c: number) {
    return { contactIndex: c, contactId: this.contactIds.id(c), sevClient: this.world.sevClient };
  }

  private touchContact(c: number, now: number): void {
    const data = { ...this.contactData(c), update: now };
    this.contactOverrides.set(c, data);
    this.contactColumns.update[c] = now;
  }

  /** The contact whose id block contains a communication way or address id. */
  private ownerOf(id: string, base: number, slots: number): number | undefined {
    if (!/^\d{1,15}$/.test(id)) return undefined;
    const c = Math.floor((Number(id) - base) / slots);
    return c >= 0 && c < this.contactColumns.length ? c : undefined;
  }

  private nextSlot(used: number[], slots: number): number {
    const next = used.length === 0 ? 0 : Math.max(...used) + 1;
    if (next < slots) return next;
    for (let s = 0; s < slots; s++) if (!used.includes(s)) return s;
    throw new SandboxError({
      status: 500,
      code: null,
      message: 'sandbox: too many communication ways on one contact',
    });
  }

  private summaryOf(
    data: ContactData,
    address: AddressData | undefined,
    parent: ContactData | undefined,
  ): ContactSummary {
    const summary: Omit<ContactSummary, 'address'> = {
      kind: data.kind,
      displayName: contactDisplayName(data),
      parentName: parent ? contactDisplayName(parent) : null,
      firstName: data.surename,
      lastName: data.familyname,
      street: address?.street ?? null,
      zip: address?.zip ?? null,
      city: address?.city ?? null,
      countryId: address?.countryId ?? '1',
      defaultTimeToPay: data.defaultTimeToPay,
    };
    return { ...summary, address: addressBlock(summary) || null };
  }

  /** What generated invoices copied from their contact: the contact as generated, never its later edits. */
  private baseSummary(c: number): ContactSummary {
    let summary = this.summaryCache.get(c);
    if (!summary) {
      const data = generateContact(this.world, c);
      const parent = data.parentIndex >= 0 ? generateContact(this.world, data.parentIndex) : undefined;
      summary = this.summaryOf(data, generateAddresses(this.world, data)[0], parent);
      if (this.summaryCache.size >= 50_000) this.summaryCache.clear();
      this.summaryCache.set(c, summary);
    }
    return summary;
  }

  private currentSummary(c: number): ContactSummary {
    const data = this.contactData(c);
    const parent = data.parentIndex >= 0 ? this.contactData(data.parentIndex) : undefined;
    return this.summaryOf(data, this.addressData(c)[0], parent);
  }

  private invalidatePrefixes(): void {
    this.wayPrefix = null;
    this.addressPrefix = null;
  }

  /** prefix[c] = number of ways (or addresses) of contacts before c, for positional paging. */
  private prefix(kind: 'ways' | 'addresses'): Uint32Array {
    const cached = kind === 'ways' ? this.wayPrefix : this.addressPrefix;
    if (cached) return cached;
    const n = this.contactColumns.length;
    const prefix = new Uint32Array(n + 1);
    for (let c = 0; c < n; c++) {
      let count: number;
      if (kind === 'ways') {
        const o = this.wayOverrides.get(c);
        count = o ? o.length : c < this.baseContacts ? commWayCount(commWayPlan(this.seed, c)) : 0;
      } else {
        const o = this.addressOverrides.get(c);
        count = o ? o.length : c < this.baseContacts ? addressCount(this.seed, c) : 0;
      }
      prefix[c + 1] = (prefix[c] ?? 0) + count;
    }
    if (kind === 'ways') this.wayPrefix = prefix;
    else this.addressPrefix = prefix;
    return prefix;
  }

  private queryPerContact<T>({
    contactId,
    prefix,
    page,
    list,
    match,
  }: {
    contactId: string | undefined;
    prefix: Uint32Array;
    page: PageRequest;
    list: (c: number) => T[];
    match?: (item: T) => boolean;
  }): Page<T> {
    const n = this.contactColumns.length;
    if (contactId !== undefined) {
      const c = this.contactIndex(contactId);
      const all = (c === undefined ? [] : list(c)).filter((item) => !match || match(item));
      const items = all.slice(page.offset, page.offset + page.limit);
      return page.countAll ? { items, total: all.length } : { items };
    }
    if (!match) {
      // Positional: find the contact holding item number `offset` by binary search over the prefix sums.
      const total = prefix[n] ?? 0;
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((prefix[mid + 1] ?? 0) <= page.offset) lo = mid + 1;
        else hi = mid;
      }
      const items: T[] = [];
      let skip = page.offset - (prefix[lo] ?? 0);
      for (let c = lo; c < n && items.length < page.limit; c++) {
        for (const item of list(c)) {
          if (skip > 0) {
            skip--;
            continue;
          }
          if (items.length < page.limit) items.push(item);
        }
      }
      return page.countAll ? { items, total } : { items };
    }
    const items: T[] = [];
    let seen = 0;
    for (let c = 0; c < n; c++) {
      for (const item of list(c)) {
        if (!match(item)) continue;
        if (seen >= page.offset && items.length < page.limit) items.push(item);
        seen++;
      }
      if (!page.countAll && items.length >= page.limit) break;
    }
    return page.countAll ? { items, total: seen } : { items };
  }
}

function badRequest(message: string): SandboxError {
  // [GUESS] validation errors of the sandbox's own mutation API: 400 without a sevDesk code.
  return new SandboxError({ status: 400, code: null, message });
}
