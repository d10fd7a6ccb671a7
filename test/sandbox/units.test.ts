import { describe, expect, it } from 'vitest';
import { berlinDayIso, berlinIso, berlinMidnight } from '../../sandbox/berlin-time';
import { IdSpace } from '../../sandbox/ids';
import { centsToWire, parseCents, taxCents } from '../../sandbox/money';

describe('berlin time', () => {
  const intl = new Intl.DateTimeFormat('sv-SE', {
    timeZone: 'Europe/Berlin',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
    timeZoneName: 'longOffset',
  });
  const reference = (t: number): string => {
    const m = /(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) GMT([+-]\d\d:\d\d)/.exec(intl.format(new Date(t * 1000)));
    return `${m?.[1]}T${m?.[2]}${m?.[3]}`;
  };

  it('agrees with Intl across the years, including the DST switches', () => {
    const samples: number[] = [];
    for (let t = 1_577_836_800; t < 1_893_456_000; t += 86_400 * 3 + 3_607) samples.push(t);
    // The 2026 switches: 29 March 01:00 UTC and 25 October 01:00 UTC, one second either side.
    samples.push(1_774_745_999, 1_774_746_000, 1_792_890_799, 1_792_890_800);
    for (const t of samples) expect(berlinIso(t), String(t)).toBe(reference(t));
  });

  it('finds Berlin midnight, also on switch days', () => {
    expect(berlinIso(berlinMidnight(1_774_760_000))).toBe('2026-03-29T00:00:00+01:00');
    expect(berlinIso(berlinMidnight(1_774_850_000))).toBe('2026-03-30T00:00:00+02:00');
    expect(berlinIso(berlinMidnight(1_792_900_000))).toBe('2026-10-25T00:00:00+02:00');
    expect(berlinDayIso(1_792_990_000)).toBe('2026-10-26T00:00:00+01:00');
  });
});

describe('money', () => {
  it('prints cents like sevDesk: no trailing zeros', () => {
    expect([0, 3920, -745, 100, 5, 50, -1, 123456789].map(centsToWire)).toEqual([
      '0',
      '39.2',
      '-7.45',
      '1',
      '0.05',
      '0.5',
      '-0.01',
      '1234567.89',
    ]);
  });

  it('parses decimal strings and rounds tax half up', () => {
    expect(parseCents('39.2')).toBe(3920);
    expect(parseCents('-7.45')).toBe(-745);
    expect(parseCents('1.234')).toBeUndefined();
    expect(parseCents('abc')).toBeUndefined();
    expect(taxCents(8400, 19)).toBe(1596);
    expect(taxCents(250, 19)).toBe(48);
    expect(taxCents(-250, 19)).toBe(-48);
  });
});

describe('id space', () => {
  it('maps indices to ascending sparse ids and back', () => {
    const ids = new IdSpace({ seed: 1, stream: 3, base: 1000, stride: 4 });
    const list = Array.from({ length: 100 }, (_, i) => ids.numeric(i));
    expect(list).toEqual([...list].sort((a, b) => a - b));
    for (let i = 0; i < 100; i++) expect(ids.index(ids.id(i))).toBe(i);
    expect(ids.index('999')).toBeUndefined();
    expect(ids.index('abc')).toBeUndefined();
    const gap = list.find((n, i) => i > 0 && n - 1 !== list[i - 1]);
    expect(gap, 'a stride of 4 leaves gaps').toEqual(expect.any(Number));
    expect(ids.index(String(gap! - 1))).toBeUndefined();
  });
});
