// Hand-written readers of the list endpoints' objects (Invoice, Contact, and a contact's e-mails and
// addresses): straight-line checks over exactly the fields the schema declares, several times cheaper than
// zod on a 1,000-object page. A reader takes only an object that is plainly well-formed and returns exactly
// what the schema would (same values, same keys); anything else, however odd or hostile, it leaves to the
// schema (`undefined`), so that refusals and their reasons stay the schema's own.
import type { CommunicationWay, Contact, ContactAddress, Invoice, ObjectRef } from './schema';
import { isCalendarDate, moneyText, Timestamp } from './schema';

/** An object as the schema reads it, or undefined: not plainly well-formed, the schema decides. */
export type FastReader<T> = (raw: unknown) => T | undefined;

/** A field the reader does not take: the whole object goes to the schema. */
const NO: unique symbol = Symbol('not plainly well-formed');
type Read<T> = T | typeof NO;

const DIGITS = /^\d+$/;
const DAYS = /^\s*-?\d+\s*$/;
const CURRENCY = /^[A-Z]{3}$/;
// The very pattern the Timestamp schema tests (a copy could drift from zod's); none: every object to zod.
const TIMESTAMP: RegExp | undefined = (() => {
  const p = (Timestamp._zod.def as { pattern?: unknown }).pattern;
  return p instanceof RegExp && !p.global && !p.sticky ? p : undefined;
})();

type Raw = Record<string, unknown>;

const isRecord = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

/** SevdeskId: digits, or a non-negative safe integer read as its digits. */
function id(v: unknown): Read<string> {
  if (typeof v === 'string') return DIGITS.test(v) ? v : NO;
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? String(v) : NO;
}

/** The schema's `text`: a string, a finite number as its text, null or missing as null. */
function text(v: unknown): Read<string | null> {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return null;
  return typeof v === 'number' && Number.isFinite(v) ? String(v) : NO;
}

/**
 * An optional ObjectRef: null or missing is undefined. The schema keeps a reference's other keys (sevDesk
 * may embed the whole object): they are copied as it copies them.
 */
function ref(v: unknown): Read<ObjectRef | undefined> {
  if (v === null || v === undefined) return undefined;
  if (!isRecord(v)) return NO;
  const refId = id(v['id']);
  const objectName = v['objectName'];
  if (refId === NO || typeof objectName !== 'string' || objectName === '') return NO;
  const out: Raw = { id: refId, objectName };
  for (const key in v) {
    if (key === 'id' || key === 'objectName') continue;
    if (key === '__proto__') return NO;
    out[key] = v[key];
  }
  return out as ObjectRef;
}

function money(v: unknown): Read<string> {
  if (typeof v !== 'string' && typeof v !== 'number') return NO;
  return moneyText(v) ?? NO;
}

const timestamp = (v: unknown): Read<string> =>
  TIMESTAMP !== undefined && typeof v === 'string' && TIMESTAMP.test(v) ? v : NO;

/** The schema's Flag, null or missing read as "0". */
function flag(v: unknown): Read<'0' | '1'> {
  if (v === '1' || v === 'true' || v === 1 || v === true) return '1';
  if (v === '0' || v === 'false' || v === 0 || v === false || v === null || v === undefined) return '0';
  return NO;
}

/** The schema's Invoice, for a plainly well-formed object. Keys in the schema's order. */
export const readInvoice: FastReader<Invoice> = (raw) => {
  if (!isRecord(raw)) return undefined;
  const out: Raw = {};
  const objectId = id(raw['id']);
  if (objectId === NO) return undefined;
  out['id'] = objectId;
  if ('objectName' in raw) {
    if (raw['objectName'] !== 'Invoice') return undefined;
    out['objectName'] = 'Invoice';
  }
  const invoiceNumber = text(raw['invoiceNumber']);
  const invoiceType = raw['invoiceType'];
  const status = raw['status'];
  if (invoiceNumber === NO || typeof invoiceType !== 'string' || invoiceType === '') return undefined;
  out['invoiceNumber'] = invoiceNumber;
  out['invoiceType'] = invoiceType;
  if (typeof status === 'string' ? !DIGITS.test(status) : id(status) === NO) return undefined;
  out['status'] = String(status);
  const contact = ref(raw['contact']);
  const origin = ref(raw['origin']);
  if (contact === NO || origin === NO) return undefined;
  if ('contact' in raw) out['contact'] = contact;
  if ('origin' in raw) out['origin'] = origin;
  const invoiceDate = raw['invoiceDate'];
  if (typeof invoiceDate !== 'string' || !isCalendarDate(invoiceDate)) return undefined;
  out['invoiceDate'] = invoiceDate;
  const timeToPay = days(raw['timeToPay']);
  const currency = currencyCode(raw['currency']);
  if (timeToPay === NO || currency === NO) return undefined;
  out['timeToPay'] = timeToPay;
  out['currency'] = currency;
  const sumNet = money(raw['sumNet']);
  const sumGross = money(raw['sumGross']);
  const sumNetForeign = optionalMoney(raw['sumNetForeignCurrency']);
  const sumGrossForeign = optionalMoney(raw['sumGrossForeignCurrency']);
  const paid = raw['paidAmount'];
  const paidAmount = paid === undefined || paid === null || paid === '' ? '0' : money(paid);
  if (sumNet === NO || sumGross === NO || sumNetForeign === NO || sumGrossForeign === NO || paidAmount === NO)
    return undefined;
  out['sumNet'] = sumNet;
  out['sumGross'] = sumGross;
  if ('sumNetForeignCurrency' in raw) out['sumNetForeignCurrency'] = sumNetForeign;
  if ('sumGrossForeignCurrency' in raw) out['sumGrossForeignCurrency'] = sumGrossForeign;
  out['paidAmount'] = paidAmount;
  const update = timestamp(raw['update']);
  if (update === NO) return undefined;
  out['update'] = update;
  // Passed through as they are when present, one line each: a loop over key names makes every access
  // megamorphic on 80-key objects, and cost more than the rest of the reader.
  if ('create' in raw) out['create'] = raw['create'];
  if ('header' in raw) out['header'] = raw['header'];
  if ('sumTax' in raw) out['sumTax'] = raw['sumTax'];
  if ('payDate' in raw) out['payDate'] = raw['payDate'];
  if ('enshrined' in raw) out['enshrined'] = raw['enshrined'];
  if ('sendType' in raw) out['sendType'] = raw['sendType'];
  if ('customerInternalNote' in raw) out['customerInternalNote'] = raw['customerInternalNote'];
  if ('addressCountry' in raw) out['addressCountry'] = raw['addressCountry'];
  if ('paymentMethod' in raw) out['paymentMethod'] = raw['paymentMethod'];
  if ('sevClient' in raw) out['sevClient'] = raw['sevClient'];
  if ('sumGrossAccounting' in raw) out['sumGrossAccounting'] = raw['sumGrossAccounting'];
  if ('sumNetAccounting' in raw) out['sumNetAccounting'] = raw['sumNetAccounting'];
  if ('dunningLevel' in raw) out['dunningLevel'] = raw['dunningLevel'];
  return out as Invoice;
};

/** timeToPay: "", null or missing is null; whole days as a (trimmed) string or a safe integer. */
function days(v: unknown): Read<string | null> {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v === 'string') return DAYS.test(v) ? v.trim() : NO;
  return typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : NO;
}

function currencyCode(v: unknown): Read<string> {
  if (typeof v !== 'string') return NO;
  const code = v.trim().toUpperCase();
  return CURRENCY.test(code) ? code : NO;
}

/** OptionalMoney: "", null and missing are undefined. */
const optionalMoney = (v: unknown): Read<string | undefined> =>
  v === undefined || v === null || v === '' ? undefined : money(v);

/** id and objectName of a sevdeskObject (objectName optional, and then exactly `name`). */
function head(raw: Raw, name: string): Raw | undefined {
  const objectId = id(raw['id']);
  if (objectId === NO) return undefined;
  const out: Raw = { id: objectId };
  if ('objectName' in raw) {
    if (raw['objectName'] !== name) return undefined;
    out['objectName'] = name;
  }
  return out;
}

/** Text fields, each read as the schema's `text` (always set: a missing one is null). */
function texts(raw: Raw, out: Raw, keys: readonly string[]): boolean {
  for (const key of keys) {
    const v = text(raw[key]);
    if (v === NO) return false;
    out[key] = v;
  }
  return true;
}

/** An optional reference, set when its key is present. */
function optionalRef(raw: Raw, out: Raw, key: string): boolean {
  const v = ref(raw[key]);
  if (v === NO) return false;
  if (key in raw) out[key] = v;
  return true;
}

const CONTACT_TEXTS = ['name', 'surename', 'familyname', 'academicTitle'] as const;

export const readContact: FastReader<Contact> = (raw) => {
  if (!isRecord(raw)) return undefined;
  const out = head(raw, 'Contact');
  if (!out || !texts(raw, out, CONTACT_TEXTS) || !optionalRef(raw, out, 'parent')) return undefined;
  const update = timestamp(raw['update']);
  if (update === NO) return undefined;
  out['update'] = update;
  if ('create' in raw) out['create'] = raw['create'];
  if ('customerNumber' in raw) out['customerNumber'] = raw['customerNumber'];
  if ('status' in raw) out['status'] = raw['status'];
  if ('category' in raw) out['category'] = raw['category'];
  if ('titel' in raw) out['titel'] = raw['titel'];
  return out as Contact;
};

/**
 * A contact's part in its strict reading (the schema's first choice); a part that fails it is read by the
 * schema, which keeps it as malformed. `own` reads the part's own fields between `contact` and the common tail.
 */
function readPart<T>(name: string, own: (raw: Raw, out: Raw) => boolean): FastReader<T> {
  return (raw) => {
    if (!isRecord(raw) || 'malformed' in raw) return undefined;
    const out = head(raw, name);
    if (!out || !optionalRef(raw, out, 'contact') || !own(raw, out)) return undefined;
    if ('create' in raw) out['create'] = raw['create'];
    if ('update' in raw) out['update'] = raw['update'];
    return out as T;
  };
}

export const readCommunicationWay: FastReader<CommunicationWay> = readPart('CommunicationWay', (raw, out) => {
  const type = raw['type'];
  if (typeof type !== 'string' || type === '') return false;
  out['type'] = type;
  if (!texts(raw, out, ['value']) || !optionalRef(raw, out, 'key')) return false;
  const main = flag(raw['main']);
  if (main === NO) return false;
  out['main'] = main;
  return true;
});

const ADDRESS_TEXTS = ['street', 'zip', 'city'] as const;

export const readContactAddress: FastReader<ContactAddress> = readPart('ContactAddress', (raw, out) => {
  if (!texts(raw, out, ADDRESS_TEXTS) || !optionalRef(raw, out, 'country')) return false;
  if ('category' in raw) out['category'] = raw['category'];
  if ('name' in raw) out['name'] = raw['name'];
  return true;
});
