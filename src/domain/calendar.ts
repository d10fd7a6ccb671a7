// Calendar arithmetic on numbers, for the rows of a page: a Date and its toISOString cost about a
// microsecond each, twice per invoice. The proleptic Gregorian calendar, as Date uses it.

const DAY_MS = 86_400_000;

/** Days from 1970-01-01 to y-m-d (m 1-12; any integer year). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  return era * 146_097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719_468;
}

/** "YYYY-MM-DD" of a day number, or null outside years 0-9999 (where toISOString writes six digits). */
export function dayText(days: number): string | null {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  if (y < 0 || y > 9999) return null;
  return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
}

/** new Date(ms).toISOString() for an integer time value within years 0-9999; null otherwise. */
export function isoText(ms: number): string | null {
  if (!Number.isSafeInteger(ms)) return null;
  const days = Math.floor(ms / DAY_MS);
  const date = dayText(days);
  if (date === null) return null;
  let t = ms - days * DAY_MS;
  const milli = t % 1000;
  t = (t - milli) / 1000;
  const s = t % 60;
  t = (t - s) / 60;
  const min = t % 60;
  return `${date}T${pad((t - min) / 60, 2)}:${pad(min, 2)}:${pad(s, 2)}.${pad(milli, 3)}Z`;
}

function pad(n: number, width: number): string {
  const s = String(n);
  return s.length >= width ? s : '0'.repeat(width - s.length) + s;
}
