import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Decimal from 'decimal.js';
import { startSandbox, type Sandbox } from '../../sandbox';
import { POISON_VALUES } from '../../sandbox/faults';
import { dayText, daysFromCivil, isoText } from '../../src/domain/calendar';
import { addDays, dueDate, localDate, toInvoiceRow } from '../../src/domain/invoice';
import { sensibleDate } from '../../src/domain/limits';
import { classifyPage } from '../../src/domain/page';
import { cleanText } from '../../src/domain/text';
import type { Page } from '../../src/sevdesk/client';
import { centsText, formatMoney, parseMoney } from '../../src/sevdesk/money';
import { Invoice, isCalendarDate } from '../../src/sevdesk/schema';
import * as old from '../helpers/classify-reference';
import { fixtureObjects } from '../sevdesk/helpers/test-server';

// The classification made cheaper (no Decimal for plain amounts, no Date for calendar checks, one parse of
// `update`, one hash call) against the classification as it was (test/helpers/classify-reference.ts): the
// same rows, content hashes, reminders, withdrawn ids, invalid entries and reasons, on sandbox pages, on the
// recorded invoices and on invoices with odd but schema-valid values.

type Raw = Record<string, unknown>;

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = prng(20260302);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 10)).join('');

/** Decimal strings of every shape: lengths, signs, leading zeros, rounding edges. */
function randomAmount(): string {
  const int = rnd() < 0.1 ? `0${digits(1 + Math.floor(rnd() * 3))}` : digits(1 + Math.floor(rnd() * 15));
  const frac = rnd() < 0.3 ? '' : `.${digits(1 + Math.floor(rnd() * 6))}`;
  return `${rnd() < 0.3 ? '-' : ''}${int}${frac}`;
}
const EDGE_AMOUNTS = [
  ...[
    '0',
    '-0',
    '0.0',
    '-0.00',
    '-0.004',
    '-0.005',
    '0.005',
    '0.0049999',
    '1.005',
    '1.015',
    '2.675',
    '-2.675',
  ],
  ...['999999999999.99', '999999999999.994', '999999999999.995', '-999999999999.995', '1000000000000'],
  ...['999999999999', '9999999999999', '000000000000001.5', '1e3', '+5', '.5', '5.', '', '-', '1.2.3', ' 1'],
  ...['12,50', 'abc', '١٢', '46.65', '536.69', '-21.9', '0.1', '0.01', '99.999', '99.995', '1487.5'],
  ...['7.45', '-7.45', '0.045', '123456789012.345', '12345678901.2345', '1.99999999'],
];

/** The amount the stored row had before: Decimal, or its error message. */
function decimalWay(value: string): string {
  try {
    const d = parseMoney(value, 'x').toDecimalPlaces(2);
    return d.abs().lessThan(1e12) ? formatMoney(d) : 'out of range';
  } catch (err) {
    return (err as Error).name;
  }
}

describe('the pieces, against the ways they replace', () => {
  it('centsText is Decimal rounding to cents, or leaves the amount to Decimal', () => {
    const amounts = [...EDGE_AMOUNTS, ...Array.from({ length: 20_000 }, randomAmount)];
    let fast = 0;
    for (const a of amounts) {
      const cents = centsText(a);
      if (cents === null) continue;
      fast += 1;
      if (cents !== decimalWay(a)) expect(cents).toBe(decimalWay(a));
    }
    expect(fast).toBeGreaterThan(amounts.length / 3);
    expect(centsText('536.69')).toBe('536.69');
    expect(centsText('-0.004')).toBe('0.00');
    expect(new Decimal(centsText('2.675') ?? 0).toFixed(2)).toBe('2.68');
  });

  const dates: string[] = [];
  for (const y of [
    '0000',
    '0050',
    '0099',
    '0100',
    '1899',
    '1900',
    '1904',
    '2000',
    '2024',
    '2100',
    '2200',
    '2201',
    '9999',
  ])
    for (let m = 0; m <= 13; m++)
      for (let d = 0; d <= 32; d++)
        dates.push(`${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`);
  dates.push('2026-3-02', '2026-03-02 ', '20260302', '2026-03-02T00:00:00+01:00', 'x', '', '２０２６-03-02');

  it('sensibleDate, isCalendarDate and localDate decide as before', () => {
    for (const date of dates) {
      if (sensibleDate(date) !== old.sensibleDate(date))
        expect([date, sensibleDate(date)]).toEqual([date, !sensibleDate(date)]);
      for (const v of [
        date,
        `${date}T10:15:07+01:00`,
        `${date} 10:15`,
        `${date}T10:15:07.5Z`,
        `${date}T10:15+0100`,
      ])
        if (isCalendarDate(v) !== old.isCalendarDate(v))
          expect([v, isCalendarDate(v)]).toEqual([v, old.isCalendarDate(v)]);
      const same = (f: () => string) => {
        try {
          return f();
        } catch (err) {
          return `${(err as Error).name}: ${(err as Error).message}`;
        }
      };
      expect(same(() => localDate(`${date}T00:00`))).toBe(same(() => old.localDate(`${date}T00:00`)));
    }
  });

  it('addDays and dueDate give the same days (and the same errors)', () => {
    const outcome = (f: () => string | null) => {
      try {
        return f();
      } catch (err) {
        return `${(err as Error).name}: ${(err as Error).message}`;
      }
    };
    const terms = ['0', '1', '14', '30', '365', '3650', '3651', ' 7 ', '-1', '1.5', '1e3', '', 'x', null];
    const now: unknown[] = [];
    const before: unknown[] = [];
    for (const date of dates) {
      for (const days of [0, 1, 14, 31, 59, 365, 366, 3650, -1, 1.5, Number.NaN, 1e9]) {
        now.push(outcome(() => addDays(date, days)));
        before.push(outcome(() => old.addDays(date, days)));
      }
      for (const t of terms) {
        now.push(outcome(() => dueDate(date, t)));
        before.push(outcome(() => old.dueDate(date, t)));
      }
    }
    expect(now).toEqual(before);
  });

  it('day numbers and ISO texts are the ones Date gives', () => {
    const now: unknown[] = [];
    const before: unknown[] = [];
    const inRange = (d: Date) => d.getUTCFullYear() >= 0 && d.getUTCFullYear() <= 9999;
    const edges = [0, -1, 1, 86_399_999, 86_400_000, -86_400_000, -62_167_219_200_000, -62_167_219_200_001];
    const times = [...edges, 253_402_300_799_999, 253_402_300_800_000, 1.5, Number.NaN];
    for (let i = 0; i < 30_000; i++) times.push(Math.floor((rnd() * 2 - 1) * 4e14));
    for (const ms of times) {
      const d = new Date(ms);
      now.push(isoText(ms));
      before.push(Number.isSafeInteger(ms) && inRange(d) ? d.toISOString() : null);
      const days = Math.floor(ms / 86_400_000);
      const day = new Date(days * 86_400_000);
      if (Number.isFinite(days)) {
        now.push(dayText(days));
        before.push(inRange(day) ? day.toISOString().slice(0, 10) : null);
      }
    }
    for (let i = 0; i < 30_000; i++) {
      const [y, m, d] = [
        100 + Math.floor(rnd() * 9900),
        1 + Math.floor(rnd() * 12),
        1 + Math.floor(rnd() * 28),
      ];
      now.push(daysFromCivil(y, m, d));
      before.push(Date.UTC(y, m - 1, d) / 86_400_000);
    }
    expect(now).toEqual(before);
  });

  it('cleanText keeps, strips, trims and cuts as before', () => {
    const parts = [
      'a',
      'RE-1',
      ' ',
      '\t',
      '\n',
      '\u00A0',
      '\uFEFF',
      '\u0000',
      '\uD800',
      '\uDC00',
      '😀',
      'ä',
      'ẞ',
      '-',
    ];
    const texts = [
      '',
      'RE-1000',
      ' RE-1 ',
      'x'.repeat(199),
      'x'.repeat(201),
      `${'x'.repeat(199)}😀`,
      ...Object.values(POISON_VALUES).filter((v): v is string => typeof v === 'string'),
    ];
    for (let i = 0; i < 20_000; i++)
      texts.push(Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => pick(parts)).join(''));
    for (const t of texts)
      for (const max of [1, 2, 5, 20, 200, 1000])
        if (cleanText(t, max) !== old.cleanText(t, max))
          expect([t, max, cleanText(t, max)]).toEqual([t, max, old.cleanText(t, max)]);
  });
});

/** Invoices as the schema reads them, with one field set to a value the schema accepts but the row may not. */
function* oddInvoices(bases: Raw[]): Generator<unknown> {
  const values: Record<string, unknown[]> = {
    sumGross: [...EDGE_AMOUNTS, 46.65, 1e21, 1e-7, ...Array.from({ length: 40 }, randomAmount)],
    sumNet: [...EDGE_AMOUNTS, 119],
    paidAmount: [...EDGE_AMOUNTS, null, '', 0, 12.5],
    sumGrossForeignCurrency: [null, '', '0', '1200.5', '536.69', '99999999999999'],
    sumGrossAccounting: [null, '', 'x', '536.69', '1e3', 12.5, '999999999999.995'],
    sumNetAccounting: [null, '451', 451, ' 7.5 '],
    currency: ['EUR', 'eur', 'USD', 'CHF', ' chf '],
    invoiceDate: [
      '1899-12-31',
      '1900-01-01',
      '2200-12-31',
      '2201-01-01',
      '9999-12-31T00:00:00+01:00',
      '2024-02-29',
    ],
    timeToPay: ['0', '14', '3650', '3651', '-1', ' 7 ', 14, '99999999999999999999', null, ''],
    update: [
      '1899-12-31T23:59:59Z',
      '1900-01-01T00:00:00+01:00',
      '2200-12-31T23:59:59.999Z',
      '2201-01-01T00:00:00Z',
    ],
    invoiceNumber: [null, '', ' ', 'RE-\u0000-1', '\uD800RE', 'x'.repeat(300), 12, ' RE-7 ', 'Rechnung ä'],
    invoiceType: ['RE', 'SR', 'MA', 'WKR', 'AR', 'ER', 'TR', 'XX', ' RE', 'R'.repeat(30)],
    status: ['50', '100', '200', '500', '750', '1000', 200],
    origin: [null, { id: '7', objectName: 'Invoice' }, { id: '7', objectName: 'Order' }],
    contact: [null, { id: '98', objectName: 'Contact' }],
    dunningLevel: [null, '1', 2, ' 3 ', 'x', '0', 100],
  };
  for (const base of bases)
    for (const [key, list] of Object.entries(values)) for (const v of list) yield { ...base, [key]: v };
  // Several at once.
  for (let i = 0; i < 3000; i++) {
    const o: Raw = { ...pick(bases) };
    for (let k = 0; k < 3; k++) {
      const key = pick(Object.keys(values));
      o[key] = pick(values[key] as unknown[]);
    }
    yield o;
  }
}

const asPage = (objects: Invoice[]): Page<Invoice> => ({
  objects,
  invalid: [],
  rawCount: objects.length,
  total: null,
});

function samePage(page: Page<Invoice>, base: string): void {
  const now = classifyPage(page, base);
  const before = old.classifyPage(page, base);
  expect(now).toEqual(before);
  // Key order too: the content hash is of the row's JSON.
  expect(JSON.stringify(now)).toBe(JSON.stringify(before));
}

describe('classifyPage, against the classification as it was', () => {
  let sandbox: Sandbox;
  const served: Raw[] = [];
  beforeAll(async () => {
    sandbox = await startSandbox({ seed: 5, data: { invoices: 4000 } });
    for (let offset = 0; offset < 4000; offset += 1000) {
      const res = await fetch(`${sandbox.url}/Invoice?showAll=true&limit=1000&offset=${offset}`, {
        headers: { authorization: sandbox.token },
      });
      served.push(...((await res.json()) as { objects: Raw[] }).objects);
    }
  });
  afterAll(() => sandbox.close());

  it('sandbox pages, in EUR and in another base currency', () => {
    const invoices = served.map((o) => Invoice.parse(o));
    for (let i = 0; i < invoices.length; i += 1000) {
      const page = asPage(invoices.slice(i, i + 1000));
      samePage(page, 'EUR');
      samePage(page, 'CHF');
    }
    expect(classifyPage(asPage(invoices.slice(0, 1000)), 'EUR').invoices.length).toBeGreaterThan(500);
  });

  it('odd values, recorded invoices, duplicate ids and malformed objects on one page', () => {
    const bases = [...fixtureObjects('invoice_list.json'), ...served.slice(0, 12)];
    const parsed: Invoice[] = [];
    for (const raw of oddInvoices(bases)) {
      const r = Invoice.safeParse(raw);
      if (r.success) parsed.push(r.data);
    }
    expect(parsed.length).toBeGreaterThan(2000);
    for (let i = 0; i < parsed.length; i += 500) {
      const objects = parsed.slice(i, i + 500);
      const invalid = [
        { id: objects[0]?.id ?? null, error: new Error('bad') },
        { id: null, error: new Error('x') },
      ];
      const page = { ...asPage(objects), invalid } as unknown as Page<Invoice>;
      samePage(page, 'EUR');
      samePage(page, 'USD');
    }
  });

  it('toInvoiceRow on values only a caller (not the schema) can pass', () => {
    const [re] = fixtureObjects('invoice_list.json').map((o) => Invoice.parse(o));
    const outcome = (f: () => unknown) => {
      try {
        return f();
      } catch (err) {
        return `${(err as Error).name}: ${(err as Error).message}`;
      }
    };
    for (const patch of [
      { sumGross: 46.65 },
      { sumGross: 1e21 },
      { sumGross: Number.NaN },
      { paidAmount: '12,50' },
      { update: 'yesterday' },
      { update: '2026-03-02' },
      { invoiceDate: 'x' },
      { invoiceDate: '2026-02-30T00:00:00Z' },
      { timeToPay: undefined },
    ]) {
      const inv = { ...re, ...patch } as Invoice;
      expect(outcome(() => toInvoiceRow(inv, 'EUR'))).toEqual(outcome(() => old.toInvoiceRow(inv, 'EUR')));
    }
  });
});
