import { z } from 'zod';

// The sevDesk wire format as measured (see docs/sevdesk.md). Strict on the fields the sync
// reads, loose on everything else: sevDesk adds fields without notice, and an unknown field must not fail a
// sync. Schema and type share one name, as in renovate's per-integration schema.ts.

/** Ids are always strings on the wire, even where the spec says integer. */
export const SevdeskId = z.string().regex(/^\d+$/, 'expected a numeric id string');
export type SevdeskId = z.infer<typeof SevdeskId>;

/** Money is a decimal string without trailing zeros ("39.2", "-7.45", "0"); no exponents, no commas. */
export const MoneyString = z.string().regex(/^-?\d+(\.\d+)?$/, 'expected a decimal string');
export type MoneyString = z.infer<typeof MoneyString>;

/** Boolean flags arrive as the strings "0" and "1" (the spec says boolean; the wire disagrees). */
export const Flag = z.enum(['0', '1']);
export type Flag = z.infer<typeof Flag>;

/** ISO 8601 with an offset, e.g. 2026-03-02T10:15:07+01:00. */
export const Timestamp = z.iso.datetime({ offset: true });
export type Timestamp = z.infer<typeof Timestamp>;

/** `{id, objectName}`; left out entirely when unset, hence `.optional()` at every use. */
export const ObjectRef = z.looseObject({ id: SevdeskId, objectName: z.string().min(1) });
export type ObjectRef = z.infer<typeof ObjectRef>;

/** Scalars are always sent (null when empty) [COMM]; a missing one is read as null rather than failing. */
const text = z
  .string()
  .nullish()
  .transform((v) => v ?? null);
const passthroughField = z.unknown().optional();

/** `countAll=true` adds `total`: the spec prose shows a string, the community spec an integer. */
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
 * `passthroughField`. Stripping instead of copying every unknown key (an invoice has about 80) is the hot
 * path of an import: the bench's fetch profile shows both (validateLooseMs / validateStripMs).
 */
const sevdeskObject = <N extends string, S extends z.ZodRawShape>(objectName: N, own: S) =>
  z.object({ id: SevdeskId, objectName: z.literal(objectName).optional(), ...own });

/** Invoice types [SPEC]; the schema accepts others so that a new type is reported, not fatal. */
export const INVOICE_TYPES = ['RE', 'WKR', 'SR', 'MA', 'TR', 'AR', 'ER'] as const;
export type InvoiceType = (typeof INVOICE_TYPES)[number];

/** Status codes seen: 50, 100, 200, 500, 750, 1000; accept any numeric string. */
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
  status: z.string().regex(/^\d+$/, 'expected a numeric status string'),
  contact: ObjectRef.optional(),
  origin: ObjectRef.optional(),
  invoiceDate: Timestamp,
  /**
   * Days as a string ("14"); due date = invoiceDate + timeToPay (there is no dueDate field). "", null and a
   * missing field mean "no due date" (read as null).
   */
  timeToPay: z
    .union([z.literal(''), z.string().regex(/^\s*-?\d+\s*$/, 'expected a whole number of days')])
    .nullish()
    .transform((v) => (v === undefined || v === null || v === '' ? null : v.trim())),
  currency: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code'),
  sumNet: MoneyString,
  sumGross: MoneyString,
  /** Missing on some EUR invoices; required (checked by the domain) only when the currency is foreign. */
  sumNetForeignCurrency: MoneyString.optional(),
  sumGrossForeignCurrency: MoneyString.optional(),
  /**
   * The one money field sent as a JSON number; convert with parseMoney (via String(n)), never float maths.
   * null (nothing paid yet, allowed by the spec) is read as 0.
   */
  paidAmount: z
    .number()
    .finite()
    .nullish()
    .transform((v) => v ?? 0),
  create: Timestamp,
  update: Timestamp,
  // Read for display only; loose so a surprise there cannot drop an invoice.
  header: passthroughField,
  sumTax: passthroughField,
  payDate: passthroughField,
  enshrined: passthroughField,
  customerInternalNote: passthroughField,
  addressCountry: passthroughField,
  paymentMethod: passthroughField,
  /** The company the invoice belongs to (activities/company.ts checks it): checked there, not here. */
  sevClient: passthroughField,
  /** The bookkeeping (base-currency) sums of a foreign invoice: checked by the domain, not here. */
  sumGrossAccounting: passthroughField,
  sumNetAccounting: passthroughField,
});
export type Invoice = z.infer<typeof Invoice>;

export const Contact = sevdeskObject('Contact', {
  /** Organisation name; null for persons (a person may still carry one after a PUT). */
  name: text,
  /** First name (sic). */
  surename: text,
  familyname: text,
  academicTitle: text,
  /** A person's organisation; left out when none. */
  parent: ObjectRef.optional(),
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
    contact: ObjectRef.optional(),
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
  key: ObjectRef.optional(),
  /** Primary per type, "0"/"1"; null is allowed by the spec (read as "0"). */
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
  country: ObjectRef.optional(),
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
