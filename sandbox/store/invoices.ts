import { berlinDayIso, berlinIso, berlinMidnight, toUnixSeconds } from '../berlin-time';
import { STATUS, TYPE, numberPrefix, type InvoiceColumns } from '../columns';
import type { World } from '../contacts';
import { SandboxError, badRequest, notFound } from '../errors';
import { EXCHANGE_RATES } from '../german-data';
import { IdSpace } from '../ids';
import {
  InvoiceFactory,
  PAYMENT_METHODS,
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
} from '../invoices';
import { centsToNumber, parseCents, taxCents } from '../money';
import { Stream } from '../random';
import type { Invoice, InvoiceStatus, InvoiceType } from '../types';
import type { ContactTable } from './contacts';
import type { SandboxKnobs } from './knobs';
import type { PoisonRecords } from './poison';

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
   * ER only: the AR/TR invoices it settles. `sumNet` is the whole order; the ER's sums are what is left after
   * them, never below zero [GUESS: as sevDesk's help and German VAT law say; no recorded ER shows it].
   */
  advanceInvoiceIds?: string[];
  /** MA only: the reminder fee (`reminderCharge`), a decimal string; default "0". */
  reminderCharge?: string;
  /** MA only: the invoice it reminds about (`origin`, an Invoice reference); absent: no origin, as generated ones. */
  originInvoiceId?: string;
  /** MA only: `dunningLevel` (sent as a string); default 1. */
  dunningLevel?: number;
}

const DAY = 86400;
const INVOICE_ID_BASE = 140_000_000;

/**
 * The invoices: invoice i is generated from (seed, i) around the facts in its typed columns; mutated or
 * added invoices are kept as overrides, deleted drafts as a set.
 */
export class InvoiceTable {
  readonly ids: IdSpace;
  readonly columns: InvoiceColumns;
  readonly deleted = new Set<number>();
  private readonly world: World;
  private readonly now: () => number;
  private readonly contacts: ContactTable;
  private readonly poison: PoisonRecords;
  private readonly knobs: SandboxKnobs;
  private readonly sequences: Map<string, number>;
  private readonly factory: InvoiceFactory;
  private readonly overrides = new Map<number, Invoice>();
  private deletedSorted: number[] = [];

  constructor(deps: {
    world: World;
    now: () => number;
    contacts: ContactTable;
    poison: PoisonRecords;
    knobs: SandboxKnobs;
  }) {
    this.world = deps.world;
    this.now = deps.now;
    this.contacts = deps.contacts;
    this.poison = deps.poison;
    this.knobs = deps.knobs;
    this.ids = new IdSpace({
      seed: this.world.seed,
      stream: Stream.invoiceId,
      base: INVOICE_ID_BASE,
      stride: 4,
    });
    const built = buildInvoiceColumns(this.world);
    this.columns = built.columns;
    this.sequences = built.sequences;
    this.factory = new InvoiceFactory({
      world: this.world,
      columns: this.columns,
      invoiceId: (i) => this.ids.id(i),
      contactId: (c) => this.contacts.ids.id(c),
      summary: (c) => this.contacts.baseSummary(c),
    });
  }

  // ---- reads ----

  count(): number {
    return this.columns.length - this.deleted.size;
  }

  get(id: string): Invoice | undefined {
    const i = this.index(id);
    return i === undefined ? undefined : plainInvoice(this.served(i));
  }

  /** All current invoices in ascending id order, built one at a time. */
  *all(): Iterable<Invoice> {
    for (let i = 0; i < this.columns.length; i++) {
      if (this.deleted.size > 0 && this.deleted.has(i)) continue;
      yield plainInvoice(this.served(i));
    }
  }

  /** The index of a live invoice's id, or undefined. */
  index(id: string): number | undefined {
    const i = this.ids.index(id);
    if (i === undefined || i >= this.columns.length || this.deleted.has(i)) return undefined;
    return i;
  }

  /** Invoice i as served: the stored object (not a copy: read-only) under the knobs and any poison. */
  served(i: number): Invoice {
    const invoice = this.at(i);
    const own = this.knobs.foreignSumsInOwnCurrency && invoice.currency !== 'EUR';
    return this.poison.apply(
      'Invoice',
      own
        ? { ...invoice, sumNet: invoice.sumNetForeignCurrency, sumGross: invoice.sumGrossForeignCurrency }
        : invoice,
    );
  }

  /** The index of the live invoice at position p in id order: skips the (few) deleted indices. */
  nthLive(p: number): number {
    let i = p;
    for (const d of this.deletedSorted) {
      if (d <= i) i++;
      else break;
    }
    return i;
  }

  // ---- mutations ----

  add(input: AddInvoiceInput): Invoice {
    const contactIndex = this.contacts.require(input.contactId);
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

    const now = this.now();
    const i = this.columns.push();
    const summary = this.contacts.currentSummary(contactIndex);
    const invoice = blankInvoice({
      id: this.ids.id(i),
      type,
      contactId: this.contacts.ids.id(contactIndex),
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
      if (input.originInvoiceId !== undefined) {
        this.require(input.originInvoiceId);
        invoice.origin = ref('Invoice', input.originInvoiceId);
      }
      invoice.dunningLevel = String(input.dunningLevel ?? 1);
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
    this.overrides.set(i, invoice);
    return plainInvoice(invoice);
  }

  /** Draft → open (200) with the next number, as sending it would do. */
  finalize(id: string): Invoice {
    const i = this.require(id);
    const invoice = this.mutable(i);
    // [GUESS] error for finalising a non-draft: not measured.
    if (invoice.status !== '100')
      throw new SandboxError({ status: 422, code: null, message: 'Invoice is not a draft' });
    const now = this.now();
    invoice.status = '200';
    this.columns.status[i] = STATUS['200'];
    this.enshrine({ i, invoice, now });
    this.touch(i, invoice, now);
    return plainInvoice(invoice);
  }

  /**
   * A payment: the full remainder (→ 1000) or a part (→ 750, paidAmount increased). `stamp: false` books it
   * without an `update` bump [GUESS: whether sevDesk bumps it on every payment path is not documented].
   */
  pay(id: string, amount?: string, opts: { stamp?: boolean } = {}): Invoice {
    const i = this.require(id);
    const invoice = this.mutable(i);
    // [GUESS] HTTP statuses of these refusals; code 750 "already paid" is measured on a live account.
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
    const now = this.now();
    const total = paid + pay;
    invoice.paidAmount = centsToNumber(total);
    invoice.status = total === gross ? '1000' : '750';
    invoice.payDate = berlinDayIso(now);
    this.columns.status[i] = STATUS[invoice.status];
    if (opts.stamp !== false) this.touch(i, invoice, now);
    return plainInvoice(invoice);
  }

  /**
   * Cancels an invoice as measured on a live account: a new SR (status 1000, origin ref, sums negated,
   * number from the RE sequence) and the original set to status 1000, paidAmount 0, update = now.
   */
  cancel(id: string): Invoice {
    const i = this.require(id);
    const original = this.at(i);
    if ((this.columns.cancelledBy[i] ?? -1) >= 0) {
      throw new SandboxError({ status: 422, code: 421, message: 'Invoice has already been cancelled' });
    }
    if (original.status === '750') {
      // Measured on a live account: this refusal arrives with HTTP 200.
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
    const now = this.now();
    const s = this.columns.push();
    const number = nextNumber(this.sequences, 'RE');
    const sr = buildCancellation({ original, id: this.ids.id(s), number: `RE-${number}`, at: now });
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
    this.overrides.set(s, sr);

    const updated = this.mutable(i);
    updated.status = '1000';
    updated.paidAmount = 0;
    c.status[i] = STATUS['1000'];
    this.touch(i, updated, now);
    return plainInvoice(sr);
  }

  /** Deletes a draft; anything else is refused with 409/159 like sevDesk. */
  delete(id: string): void {
    const i = this.require(id);
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
    this.overrides.delete(i);
  }

  // ---- internals ----

  private require(id: string): number {
    const i = this.index(id);
    if (i === undefined) throw notFound('Invoice', id);
    return i;
  }

  /** The stored or generated invoice; not a copy, so callers must not change it. */
  private at(i: number): Invoice {
    return this.overrides.get(i) ?? this.factory.build(i);
  }

  private mutable(i: number): Invoice {
    let invoice = this.overrides.get(i);
    if (!invoice) {
      invoice = this.factory.build(i);
      this.overrides.set(i, invoice);
    }
    return invoice;
  }

  private touch(i: number, invoice: Invoice, now: number): void {
    invoice.update = berlinIso(now);
    this.columns.update[i] = now;
  }

  /** Gives an invoice the next number of its range and marks it sent, as sevDesk does on sending. */
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

  /** An ER's amounts less those of the advance and partial invoices it settles (see AddInvoiceInput). */
  private deductAdvances(type: InvoiceType, currency: string, amounts: Amounts, ids: string[]): void {
    if (type !== 'ER') throw badRequest('only a final invoice (ER) deducts advance invoices');
    if (currency !== 'EUR') throw badRequest('a final invoice with advance invoices must be in EUR');
    for (const id of ids) {
      const advance = this.get(id);
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
}
