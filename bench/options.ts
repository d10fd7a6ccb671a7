import { parseArgs } from 'node:util';

export interface BenchOptions {
  /** Invoices in the generated sandbox data of the import comparison. */
  invoices: number;
  /** Accounts syncing at once in the steady-state run. */
  accounts: number;
  /** Length of the measured steady-state window. */
  steadySeconds: number;
  /** Sync interval of every steady-state account. */
  intervalSeconds: number;
  /** Invoices in the sandbox data each steady-state account sees. */
  invoicesPerAccount: number;
  /** Accounts sharing one sandbox (and its single token). */
  accountsPerSandbox: number;
  /** Sync-now-to-visible samples taken during the steady window. */
  latencySamples: number;
  seed: number;
  quick: boolean;
  skipImport: boolean;
  skipSteady: boolean;
}

export const USAGE = `usage: npm run bench -- [--quick] [--invoices N] [--accounts N] [--steady-seconds S]
       [--interval S] [--invoices-per-account N] [--accounts-per-sandbox N] [--latency-samples N]
       [--seed N] [--skip-import] [--skip-steady]

  default: 100,000 invoices, 1,000 accounts, 120 s steady window (about 10 minutes in all)
  --quick: 10,000 invoices, 50 accounts, 30 s steady window`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function int(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(v) || v < min || v > max)
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${raw}`);
  return v;
}

export function parseOptions(argv: string[]): BenchOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean' },
        invoices: { type: 'string' },
        accounts: { type: 'string' },
        'steady-seconds': { type: 'string' },
        interval: { type: 'string' },
        'invoices-per-account': { type: 'string' },
        'accounts-per-sandbox': { type: 'string' },
        'latency-samples': { type: 'string' },
        seed: { type: 'string' },
        'skip-import': { type: 'boolean' },
        'skip-steady': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) throw new UsageError('');
  const quick = values.quick ?? false;
  return {
    quick,
    invoices: int('invoices', values.invoices, quick ? 10_000 : 100_000, 1_000, 1_000_000),
    accounts: int('accounts', values.accounts, quick ? 50 : 1_000, 1, 5_000),
    steadySeconds: int('steady-seconds', values['steady-seconds'], quick ? 30 : 120, 10, 1_800),
    intervalSeconds: int('interval', values.interval, 60, 5, 3_600),
    invoicesPerAccount: int('invoices-per-account', values['invoices-per-account'], 50, 0, 10_000),
    accountsPerSandbox: int('accounts-per-sandbox', values['accounts-per-sandbox'], 100, 1, 5_000),
    latencySamples: int('latency-samples', values['latency-samples'], quick ? 5 : 20, 0, 200),
    seed: int('seed', values.seed, 7, 0, 2 ** 31 - 1),
    skipImport: values['skip-import'] ?? false,
    skipSteady: values['skip-steady'] ?? false,
  };
}
