import { berlinDayIso, berlinIso, berlinMidnight } from './berlin-time';
import { InvoiceColumns, STATUS, TYPE, numberPrefix, statusName, typeName } from './columns';
import { contactWindow, type World } from './contacts';
import { EXCHANGE_RATES, PAYMENT_NOTES, countryById } from './german-data';
import { centsToNumber, centsToWire, taxCents } from './money';
import { Rng, Stream } from './random';
import type { Invoice, InvoiceType, Ref } from './types';

const DAY = 86400;

/** What an invoice copies from its contact at creation time. */
export interface ContactSummary {
  kind: 'organisation' | 'person';
  displayName: string;
  parentName: string | null;
  firstName: string | null;
  lastName: string | null;
  street: string | null;
  zip: string | null;
  city: string | null;
  countryId: string;
  defaultTimeToPay: string | null;
  /** The address block printed on the invoice (see {@link addressBlock}). */
  address: string | null;
}

/** Share of each type among generated invoices; an SR that finds nothing to cancel becomes an RE. */
const TYPE_MIX: readonly (readonly [InvoiceType, number])[] = [
  ['SR', 3.5],
  ['AR', 3],
  ['TR', 2],
  ['ER', 2],
  ['MA', 2],
  ['WKR', 1.5],
  ['RE', 86],
];

export const SEV_USERS = ['1601234', '1601235', '1609876'] as const;
export const PAYMENT_METHODS = { transfer: '21919', directDebit: '21920' } as const;

/**
 * One pass over all invoice indices that fixes the structural facts (type, status, number, contact, times,
 * cancellation pairs) in typed columns. It is sequential because invoice numbers and cancellations depend on
 * earlier invoices; everything else is derived per invoice on demand by {@link InvoiceFactory}.
 */
export function buildInvoiceColumns(world: World): {
  columns: InvoiceColumns;
  sequences: Map<string, number>;
} {
  const { seed, invoices: n, contacts, from, until } = world;
  const columns = new InvoiceColumns(n + 64);
  const sequences = new Map<string, number>();
  const days = Math.max(1, Math.round((until - from) / DAY));
  const window = contactWindow(world);
  const dayStarts = new Uint32Array(days);
  for (let d = 0; d < days; d++) dayStarts[d] = berlinMidnight(from + d * DAY + DAY / 2);

  for (let i = 0; i < n; i++) {
    columns.push();
    const rng = new Rng(seed, Stream.invoiceStructure, i);
    // Ids grow with creation time, so creation is monotonic in the index: office hours 07:30–18:00.
    const x = (days * (i + rng.next())) / n;
    const day = Math.min(days - 1, Math.floor(x));
    const create = (dayStarts[day] ?? from) + 27000 + Math.floor((x - day) * 37800);
    columns.create[i] = create;
    const dated = rng.chance(0.1) ? Math.max(0, day - rng.range(1, 3)) : day;
    columns.invoiceDate[i] = dayStarts[dated] ?? from;

    // Only contacts that existed the day before (contacts are squeezed into office hours of their day too).
    const existing =
      Math.floor((contacts * (create - DAY - window.start)) / (window.end - window.start) - 0.5) + 1;
    const pool = Math.max(1, Math.min(contacts, existing));
    columns.contact[i] = rng.chance(0.3) ? rng.int(Math.max(1, Math.ceil(pool * 0.1))) : rng.int(pool);

    let type = rng.weighted(TYPE_MIX);
    if (type === 'SR') {
      const j = i - 1 - rng.int(60);
      // Invoices are cancelled while still open, so whether the original would have been paid later does
      // not matter; drafts and partly paid ones cannot be cancelled.
      const status = columns.status[j];
      const cancellable =
        j >= 0 &&
        columns.type[j] === TYPE.RE &&
        (status === STATUS['200'] || status === STATUS['1000']) &&
        columns.cancelledBy[j] === -1;
      if (cancellable) {
        // The cancellation (docs/sevdesk.md, "Invoices"): the SR is paid at once, the original becomes 1000 with its
        // `update` moved to the cancellation time.
        columns.type[i] = TYPE.SR;
        columns.status[i] = STATUS['1000'];
        columns.origin[i] = j;
        columns.cancelledBy[j] = i;
        columns.status[j] = STATUS['1000'];
        columns.update[j] = create;
        columns.contact[i] = columns.contact[j] ?? 0;
        columns.invoiceDate[i] = create;
        columns.update[i] = create + 1;
        columns.number[i] = nextNumber(sequences, 'RE');
        continue;
      }
      type = 'RE';
    }
    columns.type[i] = TYPE[type];
    const { status, update } = planStatus({ rng, type, create, until });
    columns.status[i] = STATUS[status];
    columns.update[i] = Math.min(until, Math.max(create, update));
    if (status !== '100') columns.number[i] = nextNumber(sequences, numberPrefix(type));
  }
  return { columns, sequences };
}

export function nextNumber(sequences: Map<string, number>, prefix: string): number {
  const next = sequences.get(prefix) ?? 1000;
  sequences.set(prefix, next + 1);
  return next;
}

function planStatus({
  rng,
  type,
  create,
  until,
}: {
  rng: Rng;
  type: InvoiceType;
  create: number;
  until: number;
}): { status: '50' | '100' | '200' | '750' | '1000'; update: number } {
  const age = until - create;
  const sentAt = create + 60 + rng.int(540);
  if (type === 'WKR') {
    const status = rng.weighted([
      ['50', 25],
      ['100', 20],
      ['200', 55],
    ] as const);
    return { status, update: create + rng.int(180) * DAY };
  }
  if (rng.chance(age < 14 * DAY ? 0.12 : 0.02)) return { status: '100', update: create + rng.int(3 * DAY) };
  const payAt = create + (1 + Math.floor(rng.next() ** 2 * 60)) * DAY + rng.int(8 * 3600);
  const r = rng.next();
  if (type === 'MA')
    return r < 0.7 || payAt > until ? { status: '200', update: sentAt } : { status: '1000', update: payAt };
  if (payAt > until) {
    if (r < 0.15 && until - sentAt > 3600) return { status: '750', update: sentAt + rng.int(until - sentAt) };
    return { status: '200', update: sentAt };
  }
  if (r < 0.05) return { status: '200', update: sentAt };
  if (r < 0.09) return { status: '750', update: create + Math.floor((payAt - create) / 2) };
  return { status: '1000', update: payAt };
}

function formatNumber(type: InvoiceType, n: number): string | null {
  return n < 0 ? null : `${numberPrefix(type)}-${n}`;
}

const HEADERS: Readonly<Record<InvoiceType, string>> = {
  RE: 'Rechnung',
  AR: 'Abschlagsrechnung',
  TR: 'Teilrechnung',
  ER: 'Schlussrechnung',
  MA: 'Zahlungserinnerung',
  WKR: 'Rechnung',
  SR: 'Stornorechnung',
};

export function invoiceHeader(type: InvoiceType, number: string | null): string {
  return number ? `${HEADERS[type]} Nr. ${number}` : HEADERS[type];
}

export function cancellationHeader(number: string, originNumber: string | null): string {
  return `Stornorechnung Nr. ${number} zur Rechnung Nr. ${originNumber ?? ''}`.trimEnd();
}

export function addressBlock(summary: Omit<ContactSummary, 'address'>): string {
  const lines = [summary.parentName, summary.displayName, summary.street];
  if (summary.zip || summary.city) lines.push([summary.zip, summary.city].filter((p) => p).join(' '));
  if (summary.countryId !== '1') lines.push(countryById(summary.countryId)?.name ?? null);
  return lines.filter((l): l is string => !!l).join('\n');
}

export interface Amounts {
  currency: string;
  taxRate: 0 | 7 | 19;
  net: number;
  tax: number;
  foreignNet: number;
  foreignTax: number;
}

export function grossOf(a: Pick<Amounts, 'net' | 'tax'>): number {
  return a.net + a.tax;
}

/** EUR amounts (and the foreign-currency ones) for a net amount in the invoice currency. */
export function computeAmounts({
  currency,
  taxRate,
  netInCurrency,
}: {
  currency: string;
  taxRate: 0 | 7 | 19;
  netInCurrency: number;
}): Amounts {
  const rate = EXCHANGE_RATES[currency];
  if (currency === 'EUR' || rate === undefined) {
    return {
      currency: 'EUR',
      taxRate,
      net: netInCurrency,
      tax: taxCents(netInCurrency, taxRate),
      foreignNet: 0,
      foreignTax: 0,
    };
  }
  const net = Math.round(netInCurrency / rate);
  return {
    currency,
    taxRate,
    net,
    tax: taxCents(net, taxRate),
    foreignNet: netInCurrency,
    foreignTax: taxCents(netInCurrency, taxRate),
  };
}

export function taxRuleFor({ taxRate, countryId }: { taxRate: number; countryId: string }): {
  taxRule: string;
  taxText: string;
} {
  if (taxRate !== 0) return { taxRule: '1', taxText: `Umsatzsteuer ${taxRate}%` };
  const eu = countryById(countryId)?.eu ?? false;
  return eu
    ? { taxRule: '3', taxText: 'Steuerfreie innergemeinschaftliche Lieferung' }
    : { taxRule: '2', taxText: 'Steuerfreie Ausfuhr' };
}

/** Writes amounts into the wire fields; sums are consistent: gross = net + tax, in EUR and in currency. */
export function applyAmounts(invoice: Invoice, a: Amounts): void {
  const foreign = a.currency !== 'EUR';
  invoice.currency = a.currency;
  invoice.sumNet = centsToWire(a.net);
  invoice.sumTax = centsToWire(a.tax);
  invoice.sumGross = centsToWire(a.net + a.tax);
  invoice.sumDiscounts = '0';
  invoice.sumNetForeignCurrency = foreign ? centsToWire(a.foreignNet) : '0';
  invoice.sumTaxForeignCurrency = foreign ? centsToWire(a.foreignTax) : '0';
  invoice.sumGrossForeignCurrency = foreign ? centsToWire(a.foreignNet + a.foreignTax) : '0';
  invoice.sumDiscountsForeignCurrency = '0';
  invoice.sumNetAccounting = invoice.sumNet;
  invoice.sumTaxAccounting = invoice.sumTax;
  invoice.sumGrossAccounting = invoice.sumGross;
}

/**
 * The reminder and recurrence fields, in their measured order, of an invoice that is neither a reminder (MA)
 * nor recurring (WKR); `dunningLevel` and the account dates stand elsewhere.
 */
const NOT_DUNNED_OR_RECURRING = {
  accountIntervall: null,
  accountLastInvoice: null,
  accountNextInvoice: null,
  reminderTotal: null,
  reminderDebit: null,
  reminderDeadline: null,
  reminderCharge: '0',
} as const satisfies Partial<Invoice>;

/** A complete wire invoice with neutral defaults; callers fill in what differs. */
export function blankInvoice({
  id,
  type,
  contactId,
  sevClient,
  summary,
  create,
  paymentMethod,
  costCentre,
}: {
  id: string;
  type: InvoiceType;
  contactId: string;
  sevClient: Ref<'SevClient'>;
  summary: ContactSummary;
  create: number;
  paymentMethod?: Ref<'PaymentMethod'>;
  costCentre?: Ref<'CostCentre'>;
}): Invoice {
  const iso = berlinIso(create);
  return {
    id,
    objectName: 'Invoice',
    additionalInformation: null,
    invoiceNumber: null,
    contact: { id: contactId, objectName: 'Contact' },
    create: iso,
    update: iso,
    sevClient,
    invoiceDate: berlinDayIso(create),
    header: HEADERS[type],
    headText: null,
    footText: null,
    timeToPay: '14',
    discountTime: null,
    discount: '0',
    addressName: summary.displayName || null,
    addressStreet: summary.street,
    addressZip: summary.zip,
    addressCity: summary.city,
    addressCountry: ref('StaticCountry', summary.countryId),
    payDate: null,
    createUser: ref('SevUser', SEV_USERS[0]),
    deliveryDate: berlinDayIso(create),
    status: '100',
    smallSettlement: '0',
    contactPerson: ref('SevUser', SEV_USERS[0]),
    taxRate: '0',
    taxText: 'Umsatzsteuer 19%',
    dunningLevel: null,
    addressParentName: summary.parentName,
    taxType: null,
    // Unset references are left out entirely (docs/sevdesk.md, "Invoices"): undefined here, so JSON drops them
    // while every invoice keeps one object shape (fast to build) and the measured field order.
    paymentMethod,
    costCentre,
    taxSet: undefined,
    sendDate: null,
    origin: undefined,
    invoiceType: type,
    ...NOT_DUNNED_OR_RECURRING,
    addressParentName2: null,
    addressName2: null,
    addressGender: null,
    accountStartDate: null,
    accountEndDate: null,
    address: summary.address,
    currency: 'EUR',
    sumNet: '0',
    sumTax: '0',
    sumGross: '0',
    sumDiscounts: '0',
    sumNetForeignCurrency: '0',
    sumTaxForeignCurrency: '0',
    sumGrossForeignCurrency: '0',
    sumDiscountsForeignCurrency: '0',
    sumNetAccounting: '0',
    sumTaxAccounting: '0',
    sumGrossAccounting: '0',
    paidAmount: 0,
    customerInternalNote: null,
    einvoiceReference: null,
    sepaMandateReference: null,
    sepaCreditorId: null,
    sepaPayerIban: null,
    showNet: summary.kind === 'organisation' ? '1' : '0',
    enshrined: null,
    sendType: '0',
    deliveryDateUntil: null,
    sendPaymentReceivedNotificationDate: null,
    sumDiscountNet: '0',
    sumDiscountGross: '0',
    sumDiscountNetForeignCurrency: '0',
    sumDiscountGrossForeignCurrency: '0',
    taxRule: ref('TaxRule', '1'),
  };
}

const refCache = new Map<string, Ref>();

/**
 * A shared, frozen reference to one of the few fixed objects (countries, users, tax rules, payment
 * methods): fewer allocations per page. Never changed in place; mutations assign a new reference.
 */
export function ref<N extends string>(objectName: N, id: string): Ref<N> {
  const key = `${objectName}:${id}`;
  let cached = refCache.get(key);
  if (!cached) {
    cached = Object.freeze({ id, objectName });
    refCache.set(key, cached);
  }
  return cached as Ref<N>;
}

/** A copy without the undefined placeholders of unset references, for callers outside the sandbox. */
export function plainInvoice(invoice: Invoice): Invoice {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(invoice)) {
    if (value === undefined) continue;
    out[key] = typeof value === 'object' && value !== null ? structuredClone(value) : value;
  }
  return out as unknown as Invoice;
}

/**
 * The cancellation invoice for `original`, exactly as measured (docs/sevdesk.md, "Invoices"): type SR, status 1000,
 * origin ref, every sum negated, paidAmount 0, enshrined at once, a number from the RE sequence, and
 * contact, address, customerInternalNote and paymentMethod copied; invoiceDate = the cancellation time.
 */
export function buildCancellation({
  original,
  id,
  number,
  at,
}: {
  original: Invoice;
  id: string;
  number: string;
  at: number;
}): Invoice {
  const iso = berlinIso(at);
  const negate = (v: string): string => (v === '0' ? '0' : v.startsWith('-') ? v.slice(1) : `-${v}`);
  const sr: Invoice = {
    ...original,
    id,
    invoiceNumber: number,
    contact: { id: original.contact.id, objectName: 'Contact' },
    create: iso,
    update: iso,
    invoiceDate: iso,
    header: cancellationHeader(number, original.invoiceNumber),
    headText: null,
    footText: null,
    payDate: null,
    status: '1000',
    dunningLevel: null,
    sendDate: null,
    invoiceType: 'SR',
    ...NOT_DUNNED_OR_RECURRING,
    accountStartDate: null,
    accountEndDate: null,
    paidAmount: 0,
    enshrined: iso,
    sendType: original.sendType === '0' ? null : original.sendType,
  };
  for (const key of [
    'sumNet',
    'sumTax',
    'sumGross',
    'sumDiscounts',
    'sumNetForeignCurrency',
    'sumTaxForeignCurrency',
    'sumGrossForeignCurrency',
    'sumDiscountsForeignCurrency',
    'sumNetAccounting',
    'sumTaxAccounting',
    'sumGrossAccounting',
    'sumDiscountNet',
    'sumDiscountGross',
    'sumDiscountNetForeignCurrency',
    'sumDiscountGrossForeignCurrency',
  ] as const) {
    sr[key] = negate(original[key]);
  }
  sr.costCentre = undefined;
  sr.taxSet = undefined;
  sr.origin = { id: original.id, objectName: 'Invoice' };
  return sr;
}

/** Builds the wire object of a generated invoice from its columns plus per-invoice random details. */
export class InvoiceFactory {
  private readonly world: World;
  private readonly columns: InvoiceColumns;
  private readonly invoiceId: (index: number) => string;
  private readonly contactId: (index: number) => string;
  private readonly summary: (contactIndex: number) => ContactSummary;

  constructor(deps: {
    world: World;
    columns: InvoiceColumns;
    invoiceId: (index: number) => string;
    contactId: (index: number) => string;
    summary: (contactIndex: number) => ContactSummary;
  }) {
    this.world = deps.world;
    this.columns = deps.columns;
    this.invoiceId = deps.invoiceId;
    this.contactId = deps.contactId;
    this.summary = deps.summary;
  }

  /** The amounts of generated invoice `i` (an SR's are its origin's, negated by the caller). */
  amounts(i: number, rng: Rng, summary: ContactSummary): Amounts {
    const country = countryById(summary.countryId);
    const foreignCurrency =
      country && country.currency !== 'EUR' && rng.chance(0.7) ? country.currency : null;
    const usd = rng.chance(0.01);
    const currency = foreignCurrency ?? (usd ? 'USD' : 'EUR');
    const business = summary.kind === 'organisation' || summary.parentName !== null;
    const domestic = summary.countryId === '1';
    const reduced = rng.chance(0.15);
    const taxRate: 0 | 7 | 19 = !domestic && (business || !country?.eu) ? 0 : reduced ? 7 : 19;
    const type = typeName(this.columns.type[i] ?? 0);
    const [low, high] = type === 'MA' ? [1500, 300000] : [2000, 2000000];
    let net = Math.round(Math.exp(Math.log(low) + rng.next() * (Math.log(high) - Math.log(low))));
    // Many prices are round: whole euros or multiples of five cents.
    const rounding = rng.next();
    if (rounding < 0.3) net = Math.round(net / 100) * 100;
    else if (rounding < 0.5) net = Math.round(net / 5) * 5;
    return computeAmounts({ currency, taxRate, netInCurrency: Math.max(100, net) });
  }

  build(i: number): Invoice {
    const c = this.columns;
    const type = typeName(c.type[i] ?? 0);
    if (type === 'SR') {
      const origin = c.origin[i] ?? -1;
      const original = this.build(origin);
      const number = formatNumber('SR', c.number[i] ?? -1) ?? '';
      const sr = buildCancellation({ original, id: this.invoiceId(i), number, at: c.create[i] ?? 0 });
      sr.update = berlinIso(c.update[i] ?? 0);
      return sr;
    }

    const contactIndex = c.contact[i] ?? 0;
    const summary = this.summary(contactIndex);
    const create = c.create[i] ?? 0;
    const update = c.update[i] ?? create;
    const status = statusName(c.status[i] ?? 0);
    const number = formatNumber(type, c.number[i] ?? -1);
    const invoiceDate = c.invoiceDate[i] ?? create;
    const cancelled = (c.cancelledBy[i] ?? -1) >= 0;
    const rng = new Rng(this.world.seed, Stream.invoiceDetail, i);
    const amounts = this.amounts(i, rng, summary);
    const directDebit = rng.chance(0.1);
    const method = rng.next();
    const invoice = blankInvoice({
      id: this.invoiceId(i),
      type,
      contactId: this.contactId(contactIndex),
      sevClient: this.world.sevClient,
      summary,
      create,
      paymentMethod:
        directDebit || method < 0.6
          ? ref('PaymentMethod', directDebit ? PAYMENT_METHODS.directDebit : PAYMENT_METHODS.transfer)
          : undefined,
      costCentre: rng.chance(0.04) ? ref('CostCentre', '4711') : undefined,
    });
    applyAmounts(invoice, amounts);
    const { taxRule, taxText } = taxRuleFor({ taxRate: amounts.taxRate, countryId: summary.countryId });
    invoice.taxRule = ref('TaxRule', taxRule);
    invoice.taxText = taxText;
    invoice.update = berlinIso(update);
    invoice.invoiceNumber = number;
    invoice.header = invoiceHeader(type, number);
    invoice.invoiceDate = berlinDayIso(invoiceDate);
    invoice.status = status;

    const user = rng.pick(SEV_USERS);
    invoice.createUser = ref('SevUser', user);
    invoice.contactPerson = ref('SevUser', rng.chance(0.8) ? user : rng.pick(SEV_USERS));
    const timeToPay =
      summary.defaultTimeToPay ??
      rng.weighted([
        ['14', 50],
        ['30', 25],
        ['7', 10],
        ['10', 10],
        ['0', 5],
      ] as const);
    invoice.timeToPay = timeToPay;
    if (rng.chance(0.05)) {
      invoice.discount = '2';
      invoice.discountTime = '7';
    }
    const greeting =
      summary.kind === 'person' && summary.parentName === null
        ? `<p>Guten Tag ${summary.firstName ?? ''} ${summary.lastName ?? ''},</p>`
        : '<p>Sehr geehrte Damen und Herren,</p>';
    if (rng.chance(0.9)) {
      invoice.headText = `${greeting}<p>vielen Dank für Ihren Auftrag. Wir erlauben uns, Ihnen folgende Leistungen in Rechnung zu stellen.</p>`;
    }
    if (rng.chance(0.92)) {
      invoice.footText = directDebit
        ? '<p>Der Betrag wird per SEPA-Lastschrift von Ihrem Konto eingezogen.</p>'
        : timeToPay === '0'
          ? '<p>Zahlbar sofort ohne Abzug.</p>'
          : `<p>Bitte überweisen Sie den Betrag innerhalb von ${timeToPay} Tagen.</p>`;
    }
    if (rng.chance(0.3)) invoice.customerInternalNote = `${rng.pick(PAYMENT_NOTES)}${rng.digits(5)}`;

    // Delivery: an AR may bill ahead (delivery after the invoice date); some bill a service period.
    if (type === 'AR') {
      invoice.deliveryDate = berlinDayIso(invoiceDate + rng.range(14, 60) * DAY);
    } else if (rng.chance(0.1)) {
      invoice.deliveryDate = berlinDayIso(invoiceDate - 30 * DAY);
      invoice.deliveryDateUntil = berlinDayIso(invoiceDate - DAY);
    } else {
      invoice.deliveryDate = berlinDayIso(invoiceDate - rng.int(5) * DAY);
    }

    if (status !== '100') {
      const sendType = rng.weighted([
        ['VPDF', 60],
        ['VM', 25],
        ['VPR', 10],
        ['VP', 5],
      ] as const);
      const sentAt = create + 30 + rng.int(90);
      invoice.sendType = sendType;
      invoice.sendDate = rng.chance(0.9) ? berlinIso(sentAt) : null;
      invoice.enshrined = berlinIso(Math.min(sentAt + 1, update));
    }
    const gross = grossOf(amounts);
    if (status === '1000' && !cancelled) {
      invoice.paidAmount = centsToNumber(gross);
      invoice.payDate = berlinDayIso(update);
    } else if (status === '750') {
      invoice.paidAmount = centsToNumber(
        Math.max(1, Math.min(gross - 1, Math.round(gross * (0.1 + 0.8 * rng.next())))),
      );
      invoice.payDate = berlinDayIso(update);
    }

    if (type === 'MA') {
      invoice.dunningLevel = String(rng.range(1, 3));
      invoice.reminderTotal = invoice.sumGross;
      invoice.reminderDebit = invoice.sumGross;
      invoice.reminderDeadline = berlinDayIso(invoiceDate + 14 * DAY);
      invoice.reminderCharge = rng.chance(0.5) ? '5' : '0';
    }
    if (type === 'WKR') {
      const months = rng.weighted([
        [1, 70],
        [3, 20],
        [12, 10],
      ] as const);
      invoice.accountIntervall = months === 12 ? 'P1Y' : `P${months}M`;
      invoice.accountStartDate = berlinDayIso(invoiceDate);
      invoice.accountNextInvoice =
        status === '200' ? String(this.world.until + rng.range(1, 28) * DAY) : null;
      invoice.accountLastInvoice = status === '200' && update > invoiceDate ? berlinDayIso(update) : null;
    }
    return invoice;
  }
}
