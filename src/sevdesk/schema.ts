import Decimal from 'decimal.js';
import { z } from 'zod';

// The sevDesk wire format as sevDesk sends it (docs/sevdesk.md, "The forms sevsync accepts"): tolerant where
// sevDesk is loose, strict only where no meaning is safe, and blind to fields the sync does not read (sevDesk
// adds fields without notice). Schema and type share one name, as in renovate's per-integration schema.ts.

/**
 * A numeric id. sevDesk sends strings ("123") even where the spec says integer; a JSON integer is read as its
 * digits, so that both forms name the same object.
 */
export const SevdeskId = z
  .union([
    z.string().regex(/^\d+$/, 'expected a numeric id string'),
    z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  ])
  .transform(String);
export type SevdeskId = z.infer<typeof SevdeskId>;

/**
 * Money as a decimal string ("39.2", "-7.45", "0"), however it came: sevDesk sends decimal strings, but also
 * JSON numbers (paidAmount; other sums in some recordings). A number is read as its shortest round-trip text
 * (`String(n)`: 119 is "119", 46.65 is "46.65"), expanded by decimal.js if JavaScript wrote an exponent; a
 * float never takes part in arithmetic. A string is trimmed; a sign or a point at either end is normalised
 * ("+5" "5", ".5" "0.5"). Anything else (a comma, a word, NaN, an exponent in a string) has no safe meaning.
 */
export const MoneyString = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const text = moneyText(v);
  if (text === null) {
    ctx.issues.push({ code: 'custom', message: 'expected a decimal amount', input: v });
    return z.NEVER;
  }
  return text;
});
export type MoneyString = z.infer<typeof MoneyString>;

/** An optional amount: null, "" and a missing field are "not set" (undefined). */
const OptionalMoney = z
  .union([z.literal(''), z.null(), MoneyString])
  .optional()
  .transform((v) => (v === '' || v === null ? undefined : v));

const CANONICAL_DECIMAL = /^-?\d+(\.\d+)?$/;
const LOOSE_DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)$/;

/** The canonical decimal text of a wire amount, or null when it has no safe meaning. */
export function moneyText(v: string | number): string | null {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return null;
    const text = String(v);
    return /e/i.test(text) ? new Decimal(text).toFixed() : text;
  }
  if (CANONICAL_DECIMAL.test(v)) return v;
  const trimmed = v.trim();
  return LOOSE_DECIMAL.test(trimmed) ? new Decimal(trimmed).toFixed() : null;
}

/**
 * A flag, read as "0" or "1": sevDesk sends the strings "0"/"1" (the spec says boolean), and booleans and the
 * numbers 0/1 have been seen too.
 */
export const Flag = z
  .union([z.enum(['0', '1', 'true', 'false']), z.literal(0), z.literal(1), z.boolean()])
  .transform((v): '0' | '1' => (v === '1' || v === 'true' || v === 1 || v === true ? '1' : '0'));
export type Flag = z.infer<typeof Flag>;

/** ISO 8601 with an offset, e.g. 2026-03-02T10:15:07+01:00. */
export const Timestamp = z.iso.datetime({ offset: true });
export type Timestamp = z.infer<typeof Timestamp>;

/**
 * An invoice date: ISO 8601 with an offset as sevDesk sends it, or a plain calendar date ("2026-03-02", or a
 * date and time without an offset): the calendar date is what is shown. Not a date (a word, "2026-02-30")
 * has no safe meaning.
 */
export const CalendarDate = z.string().refine(isCalendarDate, 'expected a date (YYYY-MM-DD...)');

const CALENDAR_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

export function isCalendarDate(v: string): boolean {
  const m = CALENDAR_DATE.exec(v);
  if (!m) return false;
  const y = Number(m[1]);
  // Years 0-99 stay refused, as when Date.UTC (which reads them as 1900-1999) checked the date.
  return y >= 100 && dayExists(y, Number(m[2]), Number(m[3]));
}

/** Day `d` of month `m` (1-12) exists in year `y` of the (proleptic) Gregorian calendar. */
export function dayExists(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  if (m !== 2) return d <= (m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31);
  return d <= (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28);
}

/**
 * `{id, objectName}`; an unset reference is left out or sent as null (both read as undefined). A reference
 * may point elsewhere than the spec says (an invoice's `origin` can be an Order): callers check objectName.
 */
export const ObjectRef = z.looseObject({ id: SevdeskId, objectName: z.string().min(1) });
export type ObjectRef = z.infer<typeof ObjectRef>;
const OptionalRef = ObjectRef.nullish().transform((v) => v ?? undefined);

/**
 * Text is always sent (null when empty); a missing one is read as null rather than failing, and a number (a
 * postcode or customer number typed into a numeric field) as its digits.
 */
const text = z
  .union([z.string(), z.number().finite()])
  .nullish()
  .transform((v) => (v === undefined || v === null ? null : String(v)));
const passthroughField = z.unknown().optional();

/** `countAll=true` adds `total`: the spec prose shows a string, the community spec and recordings an integer. */
export const Total = z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]);
export type Total = z.infer<typeof Total>;

/**
 * The list envelope, validated before any object so that one bad object cannot hide an error reply.
 * Objects are parsed one by one afterwards.
 */
export const ListEnvelope = z.looseObject({
  objects: z.array(z.unknown()),
  total: Total.nullish(),
});
export type ListEnvelope = z.infer<typeof ListEnvelope>;

/** Error envelope; parsed leniently because captures differ (`code` may be null, `data` [] or an object). */
export const ErrorEnvelope = z.looseObject({
  error: z.looseObject({
    message: z.string().nullish(),
    code: z.union([z.number(), z.string()]).nullish(),
    exceptionUUID: z.string().nullish(),
    errorCode: z.union([z.number(), z.string()]).nullish(),
    data: passthroughField,
    responseCode: z.union([z.number(), z.string()]).nullish(),
  }),
  objects: z.null().optional(),
});
export type ErrorEnvelope = z.infer<typeof ErrorEnvelope>;

/**
 * A sevDesk object: its id, its `objectName` (when sent), and its own fields. Unknown keys are accepted and
 * dropped (a field sevDesk adds can never fail a record); what the sync reads is declared, even if only as
 * `passthroughField`: stripping instead of copying every unknown key (an invoice has about 80) keeps an
 * import's hot path short.
 */
const sevdeskObject = <N extends string, S extends z.ZodRawShape>(objectName: N, own: S) =>
  z.object({ id: SevdeskId, objectName: z.literal(objectName).optional(), ...own });

/** Invoice types [SPEC]; the schema accepts others so that a new type is reported, not fatal. */
export const INVOICE_TYPES = ['RE', 'WKR', 'SR', 'MA', 'TR', 'AR', 'ER'] as const;
export type InvoiceType = (typeof INVOICE_TYPES)[number];

/** Status codes seen: 50, 100, 200, 500, 750, 1000; any number is accepted (as a string or a JSON integer). */
export const INVOICE_STATUS = {
  deactivated: '50',
  draft: '100',
  open: '200',
  partiallyPaid: '750',
  paid: '1000',
} as const;

export const Invoice = sevdeskObject('Invoice', {
  invoiceNumber: text,
  invoiceType: z.string().min(1),
  status: z
    .union([z.string().regex(/^\d+$/, 'expected a numeric status'), z.number().int().nonnegative()])
    .transform(String),
  /** The recipient; null or left out while none is set (the invoice is then unassigned). */
  contact: OptionalRef,
  /** A cancellation's original (objectName "Invoice"); may point to an Order, or be null. */
  origin: OptionalRef,
  invoiceDate: CalendarDate,
  /**
   * Days ("14", or 14); due date = invoiceDate + timeToPay (there is no dueDate field). "", null and a
   * missing field mean "no due date" (read as null).
   */
  timeToPay: z
    .union([
      z.literal(''),
      z.string().regex(/^\s*-?\d+\s*$/, 'expected a whole number of days'),
      z.number().int(),
    ])
    .nullish()
    .transform((v) => (v === undefined || v === null || v === '' ? null : String(v).trim())),
  /** ISO 4217; read in upper case ("eur" is EUR). Without one, the amounts' currency is unknown. */
  currency: z
    .string()
    .transform((v) => v.trim().toUpperCase())
    .pipe(z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code')),
  sumNet: MoneyString,
  sumGross: MoneyString,
  /** Missing, null or "" on some EUR invoices; required (checked by the domain) only for a foreign currency. */
  sumNetForeignCurrency: OptionalMoney,
  sumGrossForeignCurrency: OptionalMoney,
  /** A JSON number as specified, a decimal string in some recordings; null or "" (nothing paid yet) is "0". */
  paidAmount: z
    .union([z.literal(''), MoneyString])
    .nullish()
    .transform((v) => (v === undefined || v === null || v === '' ? '0' : v)),
  update: Timestamp,
  // Read for display only; loose so a surprise there cannot drop an invoice.
  create: passthroughField,
  header: passthroughField,
  sumTax: passthroughField,
  payDate: passthroughField,
  enshrined: passthroughField,
  sendType: passthroughField,
  customerInternalNote: passthroughField,
  addressCountry: passthroughField,
  paymentMethod: passthroughField,
  /** The company the invoice belongs to (activities/company.ts checks it): checked there, not here. */
  sevClient: passthroughField,
  /** The bookkeeping (base-currency) sums of a foreign invoice: read leniently by the domain (moneyText). */
  sumGrossAccounting: passthroughField,
  sumNetAccounting: passthroughField,
  /** A reminder's (MA) level, "1", 1 or null: read leniently by the domain (an odd one is "no level"). */
  dunningLevel: passthroughField,
});
export type Invoice = z.infer<typeof Invoice>;

export const Contact = sevdeskObject('Contact', {
  /** Organisation name; null for persons (a person may still carry one after a PUT). */
  name: text,
  /** First name (sic). */
  surename: text,
  familyname: text,
  academicTitle: text,
  /** A person's organisation; left out or null when none. */
  parent: OptionalRef,
  update: Timestamp,
  create: passthroughField,
  customerNumber: passthroughField,
  status: passthroughField,
  category: passthroughField,
  titel: passthroughField,
});
export type Contact = z.infer<typeof Contact>;

export const COMMUNICATION_WAY_TYPES = ['EMAIL', 'PHONE', 'WEB', 'MOBILE', 'FAX'] as const;
export type CommunicationWayType = (typeof COMMUNICATION_WAY_TYPES)[number];

/** A part of a contact (a communication way, an address): sevDesk's common fields around its own. */
const contactPart = <N extends string, S extends z.ZodRawShape>(objectName: N, own: S) =>
  sevdeskObject(objectName, {
    contact: OptionalRef,
    ...own,
    create: passthroughField,
    update: passthroughField,
    malformed: z.undefined().optional(),
  });

/** What every malformed reading of a contact's part has. */
interface MalformedPart {
  id: string;
  contact: ObjectRef;
  /** Why the object failed its schema. */
  malformed: string;
}

const idOf = (raw: Record<string, unknown>): string => {
  const id = raw['id'];
  return typeof id === 'string' || typeof id === 'number' ? String(id) : '?';
};

/**
 * The strict reading, or else, for an object that failed it but still names its contact, the malformed
 * reading (`rest`: its own fields, read as empty): kept, with `malformed` saying why, so that the problem
 * stays with that one contact (whose data is then not guessed) instead of failing the whole read or silently
 * dropping, say, its main e-mail.
 */
const orMalformed = <S extends z.ZodType, T>(strict: S, rest: (raw: Record<string, unknown>) => T) =>
  z.union([
    strict,
    z.looseObject({ id: z.unknown(), contact: ObjectRef }).transform((raw): T & MalformedPart => {
      const issue = strict.safeParse(raw).error?.issues[0];
      const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      return {
        id: idOf(raw),
        contact: raw['contact'] as ObjectRef,
        ...rest(raw),
        malformed: `${where}${issue?.message ?? 'invalid object'}`,
      };
    }),
  ]);

const CommunicationWayStrict = contactPart('CommunicationWay', {
  /** EMAIL | PHONE | WEB | MOBILE | FAX; kept open so an unknown type is skipped by the caller, not fatal. */
  type: z.string().min(1),
  /** As entered: an address, a number or a URL. */
  value: text,
  key: OptionalRef,
  /** Primary per type: "0"/"1" (or 0/1, a boolean); null is allowed by the spec (read as "0"). */
  main: Flag.nullish().transform((v) => v ?? '0'),
});
export type CommunicationWay = z.infer<typeof CommunicationWayStrict> | MalformedCommunicationWay;
export interface MalformedCommunicationWay extends MalformedPart {
  type: string;
  value: null;
  main: '0';
  key?: undefined;
}
export const CommunicationWay: z.ZodType<CommunicationWay> = orMalformed(
  CommunicationWayStrict,
  (raw): Omit<MalformedCommunicationWay, keyof MalformedPart> => ({
    type: typeof raw['type'] === 'string' && raw['type'] ? raw['type'] : 'UNKNOWN',
    value: null,
    main: '0',
  }),
);

const ContactAddressStrict = contactPart('ContactAddress', {
  /** Street with house number. */
  street: text,
  zip: text,
  city: text,
  country: OptionalRef,
  category: passthroughField,
  name: passthroughField,
});
export type ContactAddress = z.infer<typeof ContactAddressStrict> | MalformedContactAddress;
export interface MalformedContactAddress extends MalformedPart {
  street: null;
  zip: null;
  city: null;
  country?: undefined;
}
export const ContactAddress: z.ZodType<ContactAddress> = orMalformed(
  ContactAddressStrict,
  (): Omit<MalformedContactAddress, keyof MalformedPart> => ({ street: null, zip: null, city: null }),
);

export const StaticCountry = sevdeskObject('StaticCountry', {
  /** ISO alpha-2, lower case ("de"). */
  code: text,
  name: text,
  nameEn: text,
  translationCode: passthroughField,
});
export type StaticCountry = z.infer<typeof StaticCountry>;
