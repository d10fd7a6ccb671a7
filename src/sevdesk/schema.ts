import { z } from 'zod';

// The sevDesk wire format as measured (see shared/sevdesk/API-NOTES.md). Strict on the fields the sync
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

const text = z.string().nullable();
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

export const Invoice = z.looseObject({
  id: SevdeskId,
  objectName: z.literal('Invoice').optional(),
  invoiceNumber: text,
  invoiceType: z.string().min(1),
  status: z.string().regex(/^\d+$/, 'expected a numeric status string'),
  contact: ObjectRef.optional(),
  origin: ObjectRef.optional(),
  invoiceDate: Timestamp,
  /** Days as a string ("14"); due date = invoiceDate + timeToPay (there is no dueDate field). */
  timeToPay: z
    .string()
    .regex(/^-?\d+$/, 'expected a whole number of days')
    .nullable(),
  currency: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code'),
  sumNet: MoneyString,
  sumGross: MoneyString,
  sumNetForeignCurrency: MoneyString,
  sumGrossForeignCurrency: MoneyString,
  /** The one money field sent as a JSON number; convert with parseMoney (via String(n)), never float maths. */
  paidAmount: z.number().finite(),
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
});
export type Invoice = z.infer<typeof Invoice>;

export const Contact = z.looseObject({
  id: SevdeskId,
  objectName: z.literal('Contact').optional(),
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

export const CommunicationWay = z.looseObject({
  id: SevdeskId,
  objectName: z.literal('CommunicationWay').optional(),
  contact: ObjectRef.optional(),
  /** EMAIL | PHONE | WEB | MOBILE | FAX; kept open so an unknown type is skipped by the caller, not fatal. */
  type: z.string().min(1),
  /** As entered: an address, a number or a URL. */
  value: text,
  key: ObjectRef.optional(),
  /** Primary per type, "0"/"1". */
  main: Flag,
  create: passthroughField,
  update: passthroughField,
});
export type CommunicationWay = z.infer<typeof CommunicationWay>;

export const ContactAddress = z.looseObject({
  id: SevdeskId,
  objectName: z.literal('ContactAddress').optional(),
  contact: ObjectRef.optional(),
  /** Street with house number. */
  street: text,
  zip: text,
  city: text,
  country: ObjectRef.optional(),
  category: passthroughField,
  name: passthroughField,
  create: passthroughField,
  update: passthroughField,
});
export type ContactAddress = z.infer<typeof ContactAddress>;

export const StaticCountry = z.looseObject({
  id: SevdeskId,
  objectName: z.literal('StaticCountry').optional(),
  /** ISO alpha-2, lower case ("de"). */
  code: text,
  name: text,
  nameEn: text,
  translationCode: passthroughField,
});
export type StaticCountry = z.infer<typeof StaticCountry>;
