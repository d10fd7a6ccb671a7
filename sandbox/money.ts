import Decimal from 'decimal.js';

// Amounts are kept as integer cents (exact, and much faster than decimals for pages of 1000 invoices) and
// printed the way sevDesk does: a decimal string without trailing zeros ("39.2", "-7.45", "0").

export function centsToWire(cents: number): string {
  if (cents === 0) return '0';
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const whole = Math.floor(abs / 100);
  const frac = abs % 100;
  if (frac === 0) return `${sign}${whole}`;
  if (frac % 10 === 0) return `${sign}${whole}.${frac / 10}`;
  return `${sign}${whole}.${frac < 10 ? '0' : ''}${frac}`;
}

/** `paidAmount` is the one money field sent as a JSON number (docs/sevdesk.md, "Invoices"). */
export function centsToNumber(cents: number): number {
  return cents / 100;
}

/** Parses a decimal string with at most two decimals into cents; undefined when it is not one. */
export function parseCents(value: string): number | undefined {
  if (!/^-?\d+(\.\d{1,2})?$/.test(value.trim())) return undefined;
  return new Decimal(value.trim()).times(100).toNumber();
}

/** Tax in cents, rounded half away from zero like a commercial invoice. */
export function taxCents(netCents: number, ratePercent: number): number {
  const scaled = Math.abs(netCents) * ratePercent;
  const rounded = Math.floor(scaled / 100) + (scaled % 100 >= 50 ? 1 : 0);
  return netCents < 0 ? -rounded : rounded;
}
