import type { InvoiceStatus, InvoiceType } from './types';

export const INVOICE_TYPES: readonly InvoiceType[] = ['RE', 'WKR', 'SR', 'MA', 'TR', 'AR', 'ER'];
export const INVOICE_STATUSES: readonly InvoiceStatus[] = ['50', '100', '200', '750', '1000'];

export const TYPE = Object.fromEntries(INVOICE_TYPES.map((t, i) => [t, i])) as Record<InvoiceType, number>;
export const STATUS = Object.fromEntries(INVOICE_STATUSES.map((s, i) => [s, i])) as Record<
  InvoiceStatus,
  number
>;

export function typeName(code: number): InvoiceType {
  const name = INVOICE_TYPES[code];
  if (!name) throw new Error(`bad type code ${code}`);
  return name;
}

export function statusName(code: number): InvoiceStatus {
  const name = INVOICE_STATUSES[code];
  if (!name) throw new Error(`bad status code ${code}`);
  return name;
}

/** Number ranges: an SR takes the next RE number (measured live); the others have their own [GUESS]. */
export function numberPrefix(type: InvoiceType): string {
  return type === 'SR' ? 'RE' : type;
}

/**
 * The facts every filter needs, one typed array per fact (about 34 bytes per invoice), so that a million
 * invoices can be filtered without building a million objects. Mutations keep these in step with the
 * stored objects. Times are unix seconds.
 */
export class InvoiceColumns {
  length = 0;
  type = new Uint8Array(0);
  status = new Uint8Array(0);
  contact = new Uint32Array(0);
  create = new Uint32Array(0);
  update = new Uint32Array(0);
  invoiceDate = new Uint32Array(0);
  /** Numeric part of the invoice number, -1 while there is none. */
  number = new Int32Array(0);
  /** For an SR: the index of the invoice it cancels, else -1. */
  origin = new Int32Array(0);
  /** For a cancelled invoice: the index of its SR, else -1. */
  cancelledBy = new Int32Array(0);

  constructor(capacity: number) {
    this.reserve(capacity);
  }

  reserve(capacity: number): void {
    if (capacity <= this.type.length) return;
    const grow = <T extends Uint8Array | Uint32Array | Int32Array>(old: T, make: (n: number) => T): T => {
      const next = make(capacity);
      next.set(old);
      return next;
    };
    this.type = grow(this.type, (n) => new Uint8Array(n));
    this.status = grow(this.status, (n) => new Uint8Array(n));
    this.contact = grow(this.contact, (n) => new Uint32Array(n));
    this.create = grow(this.create, (n) => new Uint32Array(n));
    this.update = grow(this.update, (n) => new Uint32Array(n));
    this.invoiceDate = grow(this.invoiceDate, (n) => new Uint32Array(n));
    this.number = grow(this.number, (n) => new Int32Array(n));
    this.origin = grow(this.origin, (n) => new Int32Array(n));
    this.cancelledBy = grow(this.cancelledBy, (n) => new Int32Array(n));
  }

  /** Appends a row (growing by doubling) and returns its index. */
  push(): number {
    if (this.length === this.type.length) this.reserve(Math.max(16, this.length * 2));
    const i = this.length++;
    this.number[i] = -1;
    this.origin[i] = -1;
    this.cancelledBy[i] = -1;
    return i;
  }
}
