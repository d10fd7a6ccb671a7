import type Decimal from 'decimal.js';
import { dayExists } from '../sevdesk/schema';
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
  return sensibleMs(d.getTime());
}

const FIRST_MS = Date.UTC(MIN_YEAR, 0, 1);
const AFTER_LAST_MS = Date.UTC(MAX_YEAR + 1, 0, 1);

/** sensibleInstant of a time value (Date.parse's), without a Date. */
export function sensibleMs(ms: number): boolean {
  return ms >= FIRST_MS && ms < AFTER_LAST_MS;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A calendar date "YYYY-MM-DD" that exists and lies within MIN_YEAR..MAX_YEAR. */
export function sensibleDate(date: string): boolean {
  if (!DATE.test(date)) return false;
  const y = digitsAt(date, 0, 4);
  return y >= MIN_YEAR && y <= MAX_YEAR && dayExists(y, digitsAt(date, 5, 2), digitsAt(date, 8, 2));
}

/** The number written by the `n` ASCII digits at `from` (the caller has checked they are digits). */
export function digitsAt(s: string, from: number, n: number): number {
  let v = 0;
  for (let i = from; i < from + n; i++) v = v * 10 + s.charCodeAt(i) - 48;
  return v;
}
