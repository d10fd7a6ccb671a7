// sevDesk prints timestamps in Europe/Berlin with the offset (`2026-03-02T10:15:07+01:00`). The EU rule
// (since 1996: summer time from the last Sunday of March to the last Sunday of October, switching at 01:00
// UTC) is computed by hand because Intl formatting is far too slow for pages of 1000 invoices.

const switchCache = new Map<number, readonly [number, number]>();

function lastSundayUtc(year: number, month: number): number {
  const lastDay = new Date(Date.UTC(year, month + 1, 0));
  const day = lastDay.getUTCDate() - lastDay.getUTCDay();
  return Date.UTC(year, month, day, 1) / 1000;
}

function summerTime(year: number): readonly [number, number] {
  let range = switchCache.get(year);
  if (!range) {
    range = [lastSundayUtc(year, 2), lastSundayUtc(year, 9)];
    switchCache.set(year, range);
  }
  return range;
}

/** Civil date of a day number (days since 1970-01-01), by Howard Hinnant's algorithm: no Date objects. */
function civil(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

/** Offset of Berlin local time from UTC in seconds at the given instant. */
export function berlinOffsetSeconds(unixSeconds: number): number {
  const [year] = civil(Math.floor(unixSeconds / 86400));
  const [start, end] = summerTime(year);
  return unixSeconds >= start && unixSeconds < end ? 7200 : 3600;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `2026-03-02T10:15:07+01:00` */
export function berlinIso(unixSeconds: number): string {
  const offset = berlinOffsetSeconds(unixSeconds);
  const local = unixSeconds + offset;
  const days = Math.floor(local / 86400);
  const secs = local - days * 86400;
  const [year, month, day] = civil(days);
  return (
    `${year}-${pad2(month)}-${pad2(day)}` +
    `T${pad2(Math.floor(secs / 3600))}:${pad2(Math.floor(secs / 60) % 60)}:${pad2(secs % 60)}` +
    (offset === 7200 ? '+02:00' : '+01:00')
  );
}

/** Unix seconds of 00:00 Berlin time on the Berlin calendar day that contains the instant. */
export function berlinMidnight(unixSeconds: number): number {
  const local = unixSeconds + berlinOffsetSeconds(unixSeconds);
  const localMidnight = local - (((local % 86400) + 86400) % 86400);
  // The offset at midnight can differ from the one at the instant only on switch days; switches happen at
  // 02:00/03:00 local, so the offset one hour before local midnight (as UTC) is the right one.
  return localMidnight - berlinOffsetSeconds(localMidnight - 3600);
}

/** `YYYY-MM-DD` of the Berlin calendar day. */
export function berlinDate(unixSeconds: number): string {
  return berlinIso(unixSeconds).slice(0, 10);
}

export function toUnixSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

const dayIsoCache = new Map<number, string>();

/** `berlinIso(berlinMidnight(t))`, cached per day: invoice pages repeat the same few dates a lot. */
export function berlinDayIso(unixSeconds: number): string {
  const day = Math.floor((unixSeconds + berlinOffsetSeconds(unixSeconds)) / 86400);
  let iso = dayIsoCache.get(day);
  if (iso === undefined) {
    iso = berlinIso(berlinMidnight(unixSeconds));
    if (dayIsoCache.size >= 20_000) dayIsoCache.clear();
    dayIsoCache.set(day, iso);
  }
  return iso;
}
