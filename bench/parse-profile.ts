// The worker's CPU per 1,000-invoice page before the database: JSON.parse, validation and classification,
// the way before (zod for every object, the classification kept in test/helpers/classify-reference.ts) and
// the product's way now, in the same run. Pages are fetched once from an in-process sandbox, then worked on
// (the sandbox's CPU stays out of the figures); per page the two ways alternate in order, and the first
// round only warms up. `npx tsx bench/parse-profile.ts [--pages N] [--rounds N] [--seed N] [--json]`.
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { startSandbox } from '../sandbox';
import { classifyPage } from '../src/domain/page';
import { parsePage, READINGS, type Page } from '../src/sevdesk/client';
import { MAX_PAGE_LIMIT as PAGE_SIZE } from '../src/sevdesk/paging';
import { Invoice, ListEnvelope } from '../src/sevdesk/schema';
import { classifyPage as classifyPageBefore } from '../test/helpers/classify-reference';

const { values: args } = parseArgs({
  options: {
    pages: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '4' },
    seed: { type: 'string', default: '7' },
    json: { type: 'boolean', default: false },
  },
});
const pages = Math.max(1, Math.floor(Number(args.pages)));
const rounds = Math.max(2, Math.floor(Number(args.rounds)));

/** The client's reading of a list reply before the fast readers: the envelope, then zod for every object. */
function validateBefore(body: unknown): Page<Invoice> {
  const env = ListEnvelope.safeParse(body);
  if (!env.success) throw new Error('not a list reply');
  const objects: Invoice[] = [];
  for (const raw of env.data.objects) {
    const parsed = Invoice.safeParse(raw);
    if (parsed.success) objects.push(parsed.data);
  }
  const total = env.data.total;
  return {
    objects,
    invalid: [],
    rawCount: env.data.objects.length,
    total: total == null ? null : Number(total),
  };
}

interface Way {
  name: 'before' | 'after';
  validate: (body: unknown) => Page<Invoice>;
  classify: (page: Page<Invoice>) => unknown;
}
const WAYS: Way[] = [
  { name: 'before', validate: validateBefore, classify: (p) => classifyPageBefore(p, 'EUR') },
  {
    name: 'after',
    validate: (body) => parsePage(READINGS.invoice, body, 'http://sandbox/Invoice'),
    classify: (p) => classifyPage(p, 'EUR'),
  },
];
const STAGES = ['JSON.parse', 'validate', 'classify', 'total'] as const;
type StageName = (typeof STAGES)[number];

/** Per way and stage: wall and CPU ms of every counted page. */
type Samples = Record<string, { ms: number[]; cpu: number[] }>;
const samples: Samples = {};
const key = (way: string, stage: StageName) => `${way} ${stage}`;
for (const w of WAYS) for (const s of STAGES) samples[key(w.name, s)] = { ms: [], cpu: [] };

const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function timed<T>(into: { ms: number[]; cpu: number[] } | null, fn: () => T): T {
  const c0 = cpuNow();
  const t0 = performance.now();
  const out = fn();
  if (into) {
    into.ms.push(performance.now() - t0);
    into.cpu.push(cpuNow() - c0);
  }
  return out;
}

function runPage(way: Way, text: string, count: boolean): number {
  const s = (stage: StageName) => (count ? samples[key(way.name, stage)]! : null);
  const out = timed(s('total'), () => {
    const body = timed(s('JSON.parse'), () => JSON.parse(text) as unknown);
    const page = timed(s('validate'), () => way.validate(body));
    timed(s('classify'), () => way.classify(page));
    return page.objects.length;
  });
  return out;
}

async function fetchBodies(): Promise<string[]> {
  const sandbox = await startSandbox({ seed: Number(args.seed), data: { invoices: pages * PAGE_SIZE } });
  try {
    const bodies: string[] = [];
    for (let i = 0; i < pages; i++) {
      const url = `${sandbox.url}/Invoice?offset=${i * PAGE_SIZE}&limit=${PAGE_SIZE}&countAll=true&showAll=true`;
      const res = await request(url, {
        headers: { authorization: sandbox.token, accept: 'application/json' },
      });
      bodies.push(await res.body.text());
    }
    return bodies;
  } finally {
    await sandbox.close();
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

async function main(): Promise<void> {
  const bodies = await fetchBodies();
  let objects = 0;
  for (let r = 0; r < rounds; r++) {
    bodies.forEach((text, i) => {
      // Alternating order, so that neither way always runs on the other's garbage.
      const order = (i + r) % 2 ? [WAYS[1]!, WAYS[0]!] : [WAYS[0]!, WAYS[1]!];
      for (const way of order) objects = runPage(way, text, r > 0);
    });
  }
  const summary = Object.fromEntries(
    Object.entries(samples).map(([k, v]) => [
      k,
      { ms: { median: median(v.ms), mean: mean(v.ms) }, cpuMs: { median: median(v.cpu), mean: mean(v.cpu) } },
    ]),
  );
  if (args.json) {
    console.log(JSON.stringify({ pages, rounds: rounds - 1, pageSize: PAGE_SIZE, summary }, null, 2));
    return;
  }
  const f = (x: number) => x.toFixed(2).padStart(8);
  console.log(
    `${pages} pages of ${PAGE_SIZE} invoices (last page ${objects} read), ${rounds - 1} counted rounds; ms per page`,
  );
  console.log(
    `${''.padEnd(12)}${'wall ms: before'.padStart(17)}${'after'.padStart(17)}${'cpu ms: before'.padStart(19)}${'after'.padStart(17)}`,
  );
  console.log(`${'stage'.padEnd(12)}${'  median    mean'.repeat(2)}  ${'  median    mean'.repeat(2)}`);
  for (const stage of STAGES) {
    const b = samples[key('before', stage)]!;
    const a = samples[key('after', stage)]!;
    console.log(
      `${stage.padEnd(12)}${f(median(b.ms))}${f(mean(b.ms))}${f(median(a.ms))}${f(mean(a.ms))}  ` +
        `${f(median(b.cpu))}${f(mean(b.cpu))}${f(median(a.cpu))}${f(mean(a.cpu))}`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
