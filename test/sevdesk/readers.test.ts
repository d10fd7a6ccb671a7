import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox';
import { POISON_VALUES } from '../../sandbox/faults';
import { parsePage, READINGS, type ObjectReading, type Page } from '../../src/sevdesk/client';
import { SevdeskSchemaError } from '../../src/sevdesk/errors';
import { Contact, Invoice, ListEnvelope } from '../../src/sevdesk/schema';
import { SEVDESK_FIXTURES_DIR, sevdeskFixture } from '../fixtures';
import { fixtureObjects } from './helpers/test-server';

// The fast readers (src/sevdesk/readers.ts) against the schemas they stand in for: on every object and on
// every mutation of one, a reader either leaves the object to the schema or returns exactly what the schema
// returns (same values, same keys in the same order, the same references for what is passed through); and a
// page read with the readers is the page read by the schemas alone, refusals and their reasons included.

type Raw = Record<string, unknown>;
type Kind = 'invoice' | 'contact' | 'communicationWay' | 'contactAddress';

/** A value with its keys' order and presence made visible (an own key holding undefined is not a missing one). */
function canon(v: unknown): unknown {
  if (Array.isArray(v)) return ['array', v.map(canon)];
  if (typeof v === 'object' && v !== null)
    return ['object', Object.entries(v).map(([k, x]) => [k, canon(x)])];
  if (v === undefined) return '<undefined>';
  if (typeof v === 'number' && Number.isNaN(v)) return '<NaN>';
  if (Object.is(v, -0)) return '<-0>';
  return v;
}

/** The reader's answer is the schema's, or none at all; returns whether the reader took the object. */
function checkOne<T>(reading: ObjectReading<T>, raw: unknown): boolean {
  const fast = reading.read?.(raw);
  if (fast === undefined) return false;
  const parsed = reading.schema.safeParse(raw);
  if (!parsed.success) expect.fail(`the reader took what the schema refuses: ${JSON.stringify(raw)}`);
  // Cheap first (a page of mutations is thousands of objects); on a difference, the diff.
  const [a, b] = [canon(fast), canon(parsed.data)];
  if (JSON.stringify(a) !== JSON.stringify(b)) expect(a).toEqual(b);
  // Passed-through objects are the input's own, as zod hands them on.
  for (const [k, v] of Object.entries(fast as Raw)) {
    const same = (parsed.data as Raw)[k] === (raw as Raw)[k];
    if (typeof v === 'object' && v !== null && same && v !== (raw as Raw)[k]) expect(v).toBe((raw as Raw)[k]);
  }
  return true;
}

const ref = (id: unknown, objectName: unknown, more: Raw = {}) => ({ id, objectName, ...more });
const nullProtoRef = Object.assign(Object.create(null) as Raw, { id: '5', objectName: 'Contact' });

/** Values sevDesk sends, might send, or no one should: each is tried in every field. */
const VALUES: unknown[] = [
  ...[
    null,
    '',
    ' ',
    '0',
    '1',
    '-1',
    '14',
    ' 14 ',
    '\t14\n',
    '-7',
    '007',
    '12.5',
    ' 12.50 ',
    '+5',
    '.5',
    '5.',
  ],
  ...['-0', '-.5', '12,50', '1.487,50', '1e3', 'NaN', 'abc', 'EUR', 'eur', ' usd ', 'EURO', 'E1R', 'ẞÄÖ'],
  ...[
    'Invoice',
    'Contact',
    'Order',
    'true',
    'false',
    'yes',
    'EMAIL',
    '2026-03-02',
    '2026-02-30',
    '2026-02-29',
  ],
  ...['2024-02-29', '2026-03-02T10:15:07+01:00', '2026-03-02T10:15:07Z', '2026-03-02T10:15:07.123+0100'],
  ...['2026-03-02 10:15', '0050-01-01', '9999-12-31T00:00:00+01:00', '02.03.2026', '2026-13-01', '\u0000'],
  ...['\uD800', '😀', 'x'.repeat(2000), '140112233', '9007199254740993', ...Object.values(POISON_VALUES)],
  ...[0, -0, 1, -1, 14, 12.5, 46.65, 1e21, 1e-7, 2 ** 53, 2 ** 53 - 1, -(2 ** 53), 1.5, 1000, 1e15],
  ...[Number.NaN, Infinity, -Infinity, true, false, {}, [], [1], new Date(0), nullProtoRef],
  ...[ref('1', 'Contact'), ref(1, 'Invoice'), ref('77', 'Order'), ref('1', ''), ref('x', 'Contact')],
  ...[ref(-1, 'Contact'), ref(1.5, 'Invoice'), ref('1', null), ref(null, 'Contact'), { id: '1' }],
  ...[
    ref('1', 'Contact', { extra: 1 }),
    ref('1', 'Contact', { objectName2: undefined }),
    [ref('1', 'Contact')],
    ref('1', 'Contact', { 2: 'b', a: { deep: [1] }, 1: null }),
    JSON.parse('{"id":"1","objectName":"Contact","__proto__":{"x":1}}'),
  ],
];

/** The fields a schema reads (and a few it does not): the ones worth mutating. */
const MUTATED = new Set([
  ...Object.keys(Invoice.shape),
  ...Object.keys(Contact.shape),
  ...['type', 'value', 'key', 'main', 'street', 'zip', 'city', 'country', 'malformed', 'unknownField'],
]);

/** One base object with one field set to each value, missing, and present but undefined. */
function* mutations(base: Raw): Generator<unknown> {
  const keys = [...MUTATED];
  for (const key of keys) {
    const { [key]: _gone, ...without } = base;
    yield without;
    yield { ...base, [key]: undefined };
    for (const value of VALUES) yield { ...base, [key]: value };
  }
  for (const whole of [null, undefined, 'x', 1, [], [base], new Date(0)]) yield whole;
}

/** A seeded generator, so that a failure can be replayed. */
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

/** Several fields changed at once. */
function* combinations(base: Raw, n: number, seed: number): Generator<Raw> {
  const rnd = prng(seed);
  const keys = [...Object.keys(base), 'malformed'];
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  for (let i = 0; i < n; i++) {
    const o: Raw = { ...base };
    for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--) {
      const key = pick(keys);
      if (rnd() < 0.15) delete o[key];
      else o[key] = pick(VALUES);
    }
    yield o;
  }
}

const realFixtures = readdirSync(path.join(SEVDESK_FIXTURES_DIR, 'real')).filter((f) => f.endsWith('.json'));
const objectsOf = (name: string): Raw[] => (sevdeskFixture(name) as { objects: Raw[] }).objects;
const kindOf = (o: Raw): Kind | null =>
  ({
    Invoice: 'invoice',
    Contact: 'contact',
    CommunicationWay: 'communicationWay',
    ContactAddress: 'contactAddress',
  })[String(o['objectName'])] as Kind | null;

/** Every recorded object of the four kinds, by kind. */
function recorded(): Record<Kind, Raw[]> {
  const out: Record<Kind, Raw[]> = { invoice: [], contact: [], communicationWay: [], contactAddress: [] };
  const names = [
    'invoice_list.json',
    'contact_list.json',
    'communication_way_list.json',
    'contact_address_list.json',
    ...realFixtures.map((f) => `real/${f}`),
  ];
  for (const name of names)
    for (const o of objectsOf(name)) {
      const kind = kindOf(o);
      // The same recorded object appears in several files, once per variant: each variant once.
      const key = JSON.stringify(o);
      if (kind && !out[kind].some((x) => JSON.stringify(x) === key)) out[kind].push(o);
    }
  return out;
}

const PATHS: Record<Kind, string> = {
  invoice: '/Invoice?showAll=true&countAll=true',
  contact: '/Contact?depth=1&countAll=true',
  communicationWay: '/CommunicationWay?countAll=true',
  contactAddress: '/ContactAddress?countAll=true',
};

describe('fast readers: the same objects as the schemas', () => {
  let sandbox: Sandbox;
  const served: Record<Kind, unknown[]> = {
    invoice: [],
    contact: [],
    communicationWay: [],
    contactAddress: [],
  };

  beforeAll(async () => {
    sandbox = await startSandbox({ seed: 11, data: { invoices: 2500 } });
    for (const kind of Object.keys(PATHS) as Kind[]) {
      for (let offset = 0; ; offset += 1000) {
        const res = await fetch(`${sandbox.url}${PATHS[kind]}&limit=1000&offset=${offset}`, {
          headers: { authorization: sandbox.token },
        });
        const body = (await res.json()) as { objects: unknown[] };
        served[kind].push(body);
        if (body.objects.length < 1000) break;
      }
    }
  });
  afterAll(() => sandbox.close());

  const bases = recorded();

  it.each(Object.keys(PATHS) as Kind[])('%s: every recorded object, and every mutation of one', (kind) => {
    const reading = READINGS[kind] as ObjectReading<unknown>;
    expect(bases[kind].length).toBeGreaterThan(0);
    let taken = 0;
    let tried = 0;
    for (const base of bases[kind]) {
      // Every recorded object of these kinds is plainly well-formed.
      expect(checkOne(reading, base), JSON.stringify(base).slice(0, 200)).toBe(true);
      for (const m of mutations(base)) {
        tried += 1;
        if (checkOne(reading, m)) taken += 1;
      }
      for (const m of combinations(base, 300, tried)) checkOne(reading, m);
    }
    // The reader takes the forms it should (null refs, numbers as text, ...), not only the untouched objects.
    expect(taken / tried).toBeGreaterThan(0.3);
    expect(taken).toBeLessThan(tried);
  });

  it.each(Object.keys(PATHS) as Kind[])('%s: the sandbox pages, every object taken by the reader', (kind) => {
    const reading = READINGS[kind] as ObjectReading<unknown>;
    let n = 0;
    for (const body of served[kind])
      for (const o of (body as { objects: unknown[] }).objects) {
        expect(checkOne(reading, o)).toBe(true);
        n += 1;
      }
    expect(n).toBeGreaterThan(kind === 'invoice' ? 2000 : 100);
  });

  it.each(Object.keys(PATHS) as Kind[])(
    '%s: a page read with the reader is the page the schema reads',
    (kind) => {
      const reading = READINGS[kind] as ObjectReading<unknown>;
      const schemaOnly = { ...reading, read: undefined };
      const url = `https://sevdesk.invalid${PATHS[kind]}`;
      // A recorded page, a sandbox page, and a page of mutated objects (many of them refused).
      const mutated = { objects: [...mutations(bases[kind][0] as Raw)], total: '12' };
      for (const body of [{ objects: bases[kind] }, served[kind][0], mutated]) {
        const fast = parsePage(reading, body, url);
        const slow = parsePage(schemaOnly, body, url);
        expect(canon(fast.objects)).toEqual(canon(slow.objects));
        expect(fast.invalid.map((x) => [x.id, x.error.message, x.error.issues])).toEqual(
          slow.invalid.map((x) => [x.id, x.error.message, x.error.issues]),
        );
        expect([fast.rawCount, fast.total]).toEqual([slow.rawCount, slow.total]);
      }
      expect(parsePage(schemaOnly, mutated, url).invalid.length).toBeGreaterThan(10);
    },
  );
});

describe('the list envelope', () => {
  const reading = READINGS.invoice;
  const objects = fixtureObjects('invoice_list.json');
  const url = 'https://sevdesk.invalid/Invoice';
  const envelopes: unknown[] = [
    { objects },
    { objects, total: '2' },
    { objects, total: 2 },
    { objects, total: null },
    { objects, total: 0 },
    { objects, total: -0 },
    { objects, total: 'many' },
    { objects, total: -1 },
    { objects, total: 1.5 },
    { objects, total: 2 ** 53 },
    { objects, total: '' },
    { objects, extra: 1 },
    { objects: null },
    { objects: {} },
    { objects: 'x' },
    {},
    null,
    [],
    'x',
    { error: { message: 'nope', code: 151 }, objects: null },
  ];

  it.each(envelopes.map((e) => [JSON.stringify(e)?.slice(0, 60), e]))(
    '%s reads as ListEnvelope reads it',
    (_, env) => {
      const expected = ListEnvelope.safeParse(env);
      let page: Page<Invoice> | undefined;
      let error: unknown;
      try {
        page = parsePage(reading, env, url);
      } catch (err) {
        error = err;
      }
      if (!expected.success) {
        expect(error).toBeInstanceOf(SevdeskSchemaError);
        expect((error as SevdeskSchemaError).issues).toEqual(
          expected.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
        );
        return;
      }
      expect(error).toBeUndefined();
      const total = expected.data.total;
      expect(page?.total).toBe(total === undefined || total === null ? null : Number(total));
      expect(page?.rawCount).toBe(expected.data.objects.length);
      expect(page?.objects.map((o) => o.id)).toEqual(['140112233', '140118871']);
    },
  );
});
