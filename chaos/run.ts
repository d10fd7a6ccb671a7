// `npm run chaos -- [--short] [--seed N] [--faults N] [--accounts N] [--invoices N] [--budget-minutes N]
// [--keep K]`: the fault campaign against real processes on 127.0.0.1; prints its tables and writes the full
// report as JSON under bench/results/ (git-ignored). Exit code 1 when an invariant failed.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SHORT_CAMPAIGN, runCampaign } from './campaign';
import { formatReport } from './report';

const USAGE =
  'usage: npm run chaos -- [--short (the npm test campaign)] [--seed N] [--faults N (>= 1, default 100)] [--accounts N (default 3)] ' +
  '[--invoices N (per account, default 3000)] [--budget-minutes N (default 9)] [--keep always|on-failure|never]';

function int(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    console.error(`--${name} must be an integer >= ${min}, got ${raw}\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

const text = { type: 'string' } as const;
const flag = { type: 'boolean' } as const;

async function main(): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        ...Object.fromEntries(
          ['seed', 'faults', 'accounts', 'invoices', 'budget-minutes', 'keep'].map((k) => [k, text]),
        ),
        short: flag,
        help: flag,
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const str = (k: string) => (typeof values[k] === 'string' ? values[k] : undefined);
  const keep = str('keep') ?? 'on-failure';
  if (keep !== 'always' && keep !== 'on-failure' && keep !== 'never') {
    console.error(`--keep must be always, on-failure or never\n${USAGE}`);
    process.exit(2);
  }
  const base = values.short
    ? SHORT_CAMPAIGN
    : { seed: 1, faults: 100, accounts: 3, invoicesPerAccount: 3000, gapMs: undefined };
  const report = await runCampaign({
    seed: int('seed', str('seed'), base.seed, 0),
    faults: int('faults', str('faults'), base.faults, 1),
    accounts: int('accounts', str('accounts'), base.accounts, 1),
    invoicesPerAccount: int('invoices', str('invoices'), base.invoicesPerAccount, 100),
    gapMs: base.gapMs,
    budgetMs: int('budget-minutes', str('budget-minutes'), 9, 1) * 60_000,
    adminDatabaseUrl: process.env.SEVSYNC_CHAOS_PG_URL,
    keep,
    log: (line) => console.error(line),
  });
  console.log(formatReport(report));
  const dir = path.resolve(__dirname, '..', 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(
    dir,
    `chaos-seed${report.seed}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
  );
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`report: ${path.relative(process.cwd(), file)}`);
  process.exit(report.passed ? 0 : 1);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
