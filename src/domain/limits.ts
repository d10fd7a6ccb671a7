import type Decimal from 'decimal.js';
import { ErrorTypes } from '../shared';

// What a stored record may hold. Values outside these ranges are sevDesk glitches or typos, not data: they
// are reported (or, where a field is optional, left empty), never allowed to fail a page statement.

/** numeric(14,2): |x| < 10^12. */
export const MAX_ABS_AMOUNT_EXCLUSIVE = 1e12;
export const MIN_YEAR = 1900;
export const MAX_YEAR = 2200;
/** A payment term beyond ten years (either way) is a typo: the invoice is kept without a due date. */
export const MAX_TIME_TO_PAY_DAYS = 3650;

export class RecordError extends Error {
  override readonly name = ErrorTypes.recordError;
}

export function amountInRange(d: Decimal): boolean {
  return d.abs().lessThan(MAX_ABS_AMOUNT_EXCLUSIVE);
}

/** An instant whose UTC year is within MIN_YEAR..MAX_YEAR. */
export function sensibleInstant(d: Date): boolean {
  if (!Number.isFinite(d.getTime())) return false;
  const y = d.getUTCFullYear();
  return y >= MIN_YEAR && y <= MAX_YEAR;
}

/** A calendar date "YYYY-MM-DD" that exists and lies within MIN_YEAR..MAX_YEAR. */
export function sensibleDate(date: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return false;
  const d = new Date(`${date}T00:00:00Z`);
  return sensibleInstant(d) && d.toISOString().slice(0, 10) === date;
}
