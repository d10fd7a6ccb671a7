import Decimal from 'decimal.js';

// sevDesk sends money as decimal strings ("1487.5"), and sometimes as JSON numbers (paidAmount always, other
// sums in some recordings); the schema turns both into decimal strings. Everything goes through Decimal so that
// sums stay exact; a float never takes part in arithmetic.

const DECIMAL_STRING = /^-?\d+(\.\d+)?$/;

export class MoneyParseError extends Error {
  override readonly name = 'MoneyParseError';
}

/**
 * Parses a wire money value. Numbers are converted through their shortest round-trip string (`String(n)`),
 * so 46.65 becomes exactly 46.65 rather than its binary approximation.
 */
export function parseMoney(value: string | number, field?: string): Decimal {
  const where = field ? ` in ${field}` : '';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new MoneyParseError(`invalid money value${where}: ${String(value)}`);
    return new Decimal(String(value));
  }
  if (typeof value !== 'string' || !DECIMAL_STRING.test(value)) {
    throw new MoneyParseError(`invalid money value${where}: ${describe(value)}`);
  }
  return new Decimal(value);
}

/** Two decimals, half-up, never "-0.00": "1487.50". */
export function formatMoney(d: Decimal): string {
  const rounded = d.toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
  return (rounded.isZero() ? new Decimal(0) : rounded).toFixed(2);
}

/**
 * formatMoney(parseMoney(value).toDecimalPlaces(2)) without a Decimal, for a decimal string ("-12.5") with at
 * most 12 integer digits that stays below 10^12 once rounded (half up) to cents; null for anything else,
 * which takes the Decimal path. Cents below 10^14 are exact in a double.
 */
export function centsText(value: string): string | null {
  const n = value.length;
  const start = value.charCodeAt(0) === 45 ? 1 : 0;
  let i = start;
  let cents = 0;
  for (; i < n; i++) {
    const c = value.charCodeAt(i) - 48;
    if (!(c >= 0 && c <= 9)) break;
    cents = cents * 10 + c;
  }
  if (i === start || i - start > 12) return null;
  cents *= 100;
  if (i < n) {
    if (value.charCodeAt(i) !== 46 || i === n - 1) return null;
    for (let k = i + 1; k < n; k++) {
      const c = value.charCodeAt(k) - 48;
      if (!(c >= 0 && c <= 9)) return null;
      // The third decimal decides the rounding; the ones after it cannot (half up).
      if (k === i + 1) cents += c * 10;
      else if (k === i + 2) cents += c;
      else if (k === i + 3 && c >= 5) cents += 1;
    }
  }
  if (cents >= 1e14) return null;
  if (cents === 0) return '0.00';
  const c = cents % 100;
  return `${start === 1 ? '-' : ''}${(cents - c) / 100}.${c < 10 ? '0' : ''}${c}`;
}

/** Exact sum of wire money values. */
export function sumMoney(values: Iterable<string | number | Decimal>): Decimal {
  let total = new Decimal(0);
  for (const v of values) total = total.plus(v instanceof Decimal ? v : parseMoney(v));
  return total;
}

function describe(value: unknown): string {
  if (typeof value !== 'string') return typeof value;
  // Quote a short prefix only: enough to find the bad value, without echoing a large payload.
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}
