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
