import { parseArgs } from 'node:util';

export interface BenchOptions {
  /** Invoices in the generated sandbox data of the import comparison. */
  invoices: number;
  /** Timed runs each of the pipeline and the plain loop, alternating (P B B P ...). */
  importRounds: number;
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
  /** Run the import's worker and baseline processes under node --cpu-prof and summarise where their CPU went. */
  cpuProfile: boolean;
  /**
   * How steady-state accounts start: quiet (default: cursors where a first sync leaves them, so the first
   * cycle is an incremental one), a first full sync, or the product's bulk import (addInterface).
   */
  onboarding: 'quiet' | 'sync' | 'import';
  /** Also run what-if variants of the plain loop (prefetch, ANALYZE cadence) to measure product changes. */
  experiments: boolean;
  /** The import against a sevDesk that takes its time: invoices, and the sandbox's latency profile. */
  latencyInvoices: number;
  latencyMs: number;
  latencyPerObjectMs: number;
  skipLatency: boolean;
  /** Fairness: steady accounts' start lateness without and during one account's bulk import. */
  fairnessInvoices: number;
  fairnessAccounts: number;
  fairnessInterval: number;
  /**
   * Least length of every window, without and with imports (a window with runs imports back to back until
   * it has lasted this long); at least the interval, so that every account falls due in each.
   */
  fairnessSeconds: number;
  /** Window pairs, without then with imports, alternating; the goal uses the medians over them. */
  fairnessWindows: number;
  skipFairness: boolean;
  /** Fairness on the steady-state fleet (its window is the "without") instead of a fleet of its own. */
  fairnessOnSteady: boolean;
  /** The change feed: invoices of the import with and without it, and its runs of each (E N N E ...). */
  eventsInvoices: number;
  eventsRounds: number;
  /** The feed of idle accounts: accounts, invoices each, length of the window of their cycles. */
  idleAccounts: number;
  idleInvoices: number;
  idleSeconds: number;
  /** Events delivered as webhooks to a local receiver (0: not measured). */
  webhookEvents: number;
  /** sevDesk change to webhook received: timed changes (0: not measured) and the account's sync interval. */
  lagSamples: number;
  lagInterval: number;
  skipEvents: boolean;
}

/**
 * The bench's assumed sevDesk (no public figure found): a fixed cost per request plus a cost per object;
 * see bench/README.md ("A sevDesk that takes its time") for why these values are plausible.
 */
export const LATENCY_DEFAULTS = {
  requestMs: 250,
  perObjectMs: 0.4,
  source:
    'assumption (no published sevDesk latency figure found): 250 ms per request (PHP API in Germany, ' +
    'TLS, auth, paging query) + 0.4 ms per object serialised (a 1,000-invoice page ~ 0.65 s); see bench/README.md',
} as const;

export const USAGE = `usage: npm run bench -- [--quick] [--invoices N] [--import-rounds N] [--accounts N] [--steady-seconds S]
       [--interval S] [--invoices-per-account N] [--accounts-per-sandbox N] [--latency-samples N]
       [--seed N] [--skip-import] [--skip-steady] [--cpu-profile] [--experiments]
       [--onboarding quiet|sync|import] [--latency-invoices N] [--latency-ms MS] [--latency-per-object-ms MS]
       [--skip-latency] [--fairness-invoices N] [--fairness-accounts N] [--fairness-interval S]
       [--fairness-seconds S] [--fairness-windows N] [--skip-fairness] [--fairness-on-steady]
       [--events-invoices N] [--events-rounds N] [--idle-accounts N] [--idle-invoices N] [--idle-seconds S]
       [--webhook-events N] [--lag-samples N] [--lag-interval S] [--skip-events]

  default: 100,000 invoices (pipeline and plain loop twice each, alternating), 1,000 accounts, 120 s steady
           window, plus the latency-profile import and the fairness windows (about 19 minutes in all on 2 cores)
  --quick: 10,000 invoices (once each), 50 accounts, 30 s steady window at a 15 s interval (so that syncs fall due in it)
  --cpu-profile: the workers of the import and of the steady state and the plain loop run under node --cpu-prof;
           CPU by area is printed (the import's import and sync workers, the steady sync worker, the loop)
  --onboarding: how steady-state accounts start. quiet (default): their interface rows hold the cursors a first
           sync would leave (read from their sandbox), so the first cycle is an incremental sync; sync: a first full
           sync each (at 10,000 accounts, about 11 a second on 2 cores: a 942 s setup); import: the bulk import (addInterface)
  --experiments: what-if variants of the plain loop (prefetch, ANALYZE cadence), about 3 x the baseline's time
  --steady-seconds: default 120 s, or the interval + 15 s when that is longer (every account falls due in it)
  latency profile: the pipeline import of --latency-invoices (30,000; quick 5,000) against a sandbox that waits
           --latency-ms (${LATENCY_DEFAULTS.requestMs}) per request + --latency-per-object-ms (${LATENCY_DEFAULTS.perObjectMs}) per object, one page at a
           time (SEVSYNC_IMPORT_WINDOW=1) and with the product's default window
  fairness: --fairness-accounts (1,000; quick 50) accounts at --fairness-interval (60 s; quick 15 s) on the
           deployment (a sync worker and an import worker), start lateness in --fairness-windows (3; quick 2)
           pairs of windows, alternating: --fairness-seconds (the interval, at least 60; quick 30) without an
           import, then at least as long with imports of --fairness-invoices (100,000; quick 5,000) back to
           back (a new account each); the goal is median(p99 with) / median(p99 without), shown with the
           pairs' spread; --fairness-on-steady: on the steady-state fleet instead (its window is the first
           without; slow at 10,000 accounts)
  change feed: the pipeline import of --events-invoices (20,000; quick 10,000) with the feed and without it
           (its triggers disabled, sevsync_emit a no-op), --events-rounds (3; quick 2) runs of each alternating
           E N N E E N; the events table's size; then --idle-accounts (4) accounts of --idle-invoices (1,000) each
           syncing without changes for --idle-seconds (30; quick 20): the events they add (expected none);
           webhook delivery of --webhook-events (20,000; quick 10,000; 0: none) events to a local receiver;
           the lag from a sevDesk change to the webhook received: --lag-samples (20; quick 10; 0: none) changes,
           each after a random 0..interval s wait, of one account syncing every --lag-interval (10; quick 5) s`;

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

function ms(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v < 0 || v > 60_000)
    throw new UsageError(`--${name} must be a number of milliseconds from 0 to 60000, got ${raw}`);
  return v;
}

function onboarding(raw: string | undefined): BenchOptions['onboarding'] {
  if (raw === undefined || raw === 'quiet' || raw === 'sync' || raw === 'import') return raw ?? 'quiet';
  throw new UsageError(`--onboarding must be quiet, sync or import, got ${raw}`);
}

export function parseOptions(argv: string[]): BenchOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean' },
        invoices: { type: 'string' },
        'import-rounds': { type: 'string' },
        accounts: { type: 'string' },
        'steady-seconds': { type: 'string' },
        interval: { type: 'string' },
        'invoices-per-account': { type: 'string' },
        'accounts-per-sandbox': { type: 'string' },
        'latency-samples': { type: 'string' },
        seed: { type: 'string' },
        'skip-import': { type: 'boolean' },
        'skip-steady': { type: 'boolean' },
        'cpu-profile': { type: 'boolean' },
        experiments: { type: 'boolean' },
        onboarding: { type: 'string' },
        'latency-invoices': { type: 'string' },
        'latency-ms': { type: 'string' },
        'latency-per-object-ms': { type: 'string' },
        'skip-latency': { type: 'boolean' },
        'fairness-invoices': { type: 'string' },
        'fairness-accounts': { type: 'string' },
        'fairness-interval': { type: 'string' },
        'fairness-seconds': { type: 'string' },
        'fairness-windows': { type: 'string' },
        'skip-fairness': { type: 'boolean' },
        'fairness-on-steady': { type: 'boolean' },
        'events-invoices': { type: 'string' },
        'events-rounds': { type: 'string' },
        'idle-accounts': { type: 'string' },
        'idle-invoices': { type: 'string' },
        'idle-seconds': { type: 'string' },
        'webhook-events': { type: 'string' },
        'lag-samples': { type: 'string' },
        'lag-interval': { type: 'string' },
        'skip-events': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) throw new UsageError('');
  const quick = values.quick ?? false;
  const intervalSeconds = int('interval', values.interval, quick ? 15 : 60, 5, 3_600);
  const fairnessInterval = int('fairness-interval', values['fairness-interval'], quick ? 15 : 60, 5, 3_600);
  return {
    quick,
    invoices: int('invoices', values.invoices, quick ? 10_000 : 100_000, 1_000, 1_000_000),
    importRounds: int('import-rounds', values['import-rounds'], quick ? 1 : 2, 1, 10),
    accounts: int('accounts', values.accounts, quick ? 50 : 1_000, 1, 10_000),
    steadySeconds: int(
      'steady-seconds',
      values['steady-seconds'],
      Math.max(quick ? 30 : 120, intervalSeconds + 15),
      10,
      4_000,
    ),
    intervalSeconds,
    invoicesPerAccount: int('invoices-per-account', values['invoices-per-account'], 50, 0, 10_000),
    accountsPerSandbox: int('accounts-per-sandbox', values['accounts-per-sandbox'], 100, 1, 10_000),
    latencySamples: int('latency-samples', values['latency-samples'], quick ? 5 : 20, 0, 200),
    seed: int('seed', values.seed, 7, 0, 2 ** 31 - 1),
    skipImport: values['skip-import'] ?? false,
    skipSteady: values['skip-steady'] ?? false,
    cpuProfile: values['cpu-profile'] ?? false,
    experiments: values.experiments ?? false,
    onboarding: onboarding(values.onboarding),
    latencyInvoices: int(
      'latency-invoices',
      values['latency-invoices'],
      quick ? 5_000 : 30_000,
      1_000,
      1_000_000,
    ),
    latencyMs: ms('latency-ms', values['latency-ms'], LATENCY_DEFAULTS.requestMs),
    latencyPerObjectMs: ms(
      'latency-per-object-ms',
      values['latency-per-object-ms'],
      LATENCY_DEFAULTS.perObjectMs,
    ),
    skipLatency: values['skip-latency'] ?? false,
    fairnessInvoices: int(
      'fairness-invoices',
      values['fairness-invoices'],
      quick ? 5_000 : 100_000,
      1_000,
      1_000_000,
    ),
    fairnessAccounts: int('fairness-accounts', values['fairness-accounts'], quick ? 50 : 1_000, 1, 10_000),
    fairnessInterval,
    fairnessSeconds: int(
      'fairness-seconds',
      values['fairness-seconds'],
      Math.max(quick ? 30 : 60, fairnessInterval),
      10,
      4_000,
    ),
    fairnessWindows: int('fairness-windows', values['fairness-windows'], quick ? 2 : 3, 1, 20),
    skipFairness: values['skip-fairness'] ?? false,
    fairnessOnSteady: values['fairness-on-steady'] ?? false,
    eventsInvoices: int(
      'events-invoices',
      values['events-invoices'],
      quick ? 10_000 : 20_000,
      1_000,
      1_000_000,
    ),
    eventsRounds: int('events-rounds', values['events-rounds'], quick ? 2 : 3, 1, 10),
    idleAccounts: int('idle-accounts', values['idle-accounts'], 4, 0, 100),
    idleInvoices: int('idle-invoices', values['idle-invoices'], 1_000, 100, 100_000),
    idleSeconds: int('idle-seconds', values['idle-seconds'], quick ? 20 : 30, 10, 600),
    webhookEvents: int('webhook-events', values['webhook-events'], quick ? 10_000 : 20_000, 0, 1_000_000),
    lagSamples: int('lag-samples', values['lag-samples'], quick ? 10 : 20, 0, 200),
    lagInterval: int('lag-interval', values['lag-interval'], quick ? 5 : 10, 2, 600),
    skipEvents: values['skip-events'] ?? false,
  };
}
