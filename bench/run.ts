import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { IMPORT_PAGE_SIZE } from '../src/activities/bulk-import';
import { closeDefaultDispatchers } from '../src/sevdesk/client';
import { importComparison } from './import-comparison';
import { eventsBench } from './events';
import {
  ADMIN_DATABASE_URL,
  Cleanup,
  checkpoint,
  createDatabase,
  dropDatabase,
  log,
  sleep,
  startSandboxHost,
  startTemporal,
  stopAllChildren,
} from './infra';
import type { BenchOptions } from './options';
import { USAGE, UsageError, parseOptions } from './options';
import { machineCpu } from './proc-stats';
import type { Goal } from './report';
import { allGoals, findings, render } from './report';
import type { FairnessResult } from './fairness';
import { runFairness, startImportSandbox } from './fairness';
import { importUnderLatency } from './import-latency';
import type { SteadyResult } from './steady-state';
import { runSteadyState } from './steady-state';

const RESULTS_DIR = path.join(__dirname, 'results');

/** CPU the machine spends on others' work before the bench starts anything (shared machines are noisy). */
async function backgroundLoad(): Promise<number> {
  const a = machineCpu();
  const own = process.cpuUsage();
  const t = Date.now();
  await sleep(3000);
  const b = machineCpu();
  const mine = process.cpuUsage(own);
  const wall = (Date.now() - t) / 1000;
  return Math.max(0, (b.busySeconds - a.busySeconds - (mine.user + mine.system) / 1e6) / wall);
}

async function postgresVersion(): Promise<string> {
  const sql = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ v: string }[]>`select version() as v`;
    return row?.v ?? '?';
  } finally {
    await sql.end({ timeout: 5 });
  }
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: path.resolve(__dirname, '..'),
      encoding: 'utf8',
    }).trim();
  } catch {
    return null;
  }
}

async function steadyState(
  opts: BenchOptions,
  temporal: Awaited<ReturnType<typeof startTemporal>>,
  cleanup: Cleanup,
  cpuProfileDir: string | undefined,
): Promise<{ steady: SteadyResult; fairness: FairnessResult | undefined }> {
  // The sync-now samples get a sandbox of their own (the invoices they add must reach no idle account).
  const samples = Math.min(opts.latencySamples, opts.accountsPerSandbox, opts.accounts);
  const count = (samples > 0 ? 1 : 0) + Math.ceil((opts.accounts - samples) / opts.accountsPerSandbox);
  log(`steady: ${opts.accounts} accounts on ${count} sandbox(es) of ${opts.invoicesPerAccount} invoices`);
  const host = await startSandboxHost(
    Array.from({ length: count }, (_, i) => ({ seed: opts.seed + 1 + i, invoices: opts.invoicesPerAccount })),
  );
  cleanup.add('steady sandbox host', () => host.stop());
  await checkpoint();
  // --fairness-on-steady: fairness on the steady fleet itself (the accounts the goal is about): its window is
  // the "without", then one more account imports on the same worker.
  const importer =
    opts.skipFairness || !opts.fairnessOnSteady ? undefined : await startImportSandbox(opts, cleanup);
  const db = await createDatabase('steady');
  cleanup.add('steady database', () => dropDatabase(db));
  return runSteadyState({
    ...(importer ? { fairness: importer } : {}),
    databaseUrl: db,
    temporal,
    sandboxHost: host,
    cpuProfileDir,
    accounts: opts.accounts,
    accountsPerSandbox: opts.accountsPerSandbox,
    sampleAccounts: samples,
    intervalSeconds: opts.intervalSeconds,
    windowSeconds: opts.steadySeconds,
    latencySamples: opts.latencySamples,
    setupTimeoutMs: setupTimeoutMs(opts.accounts, opts.onboarding),
    onboarding: opts.onboarding,
  });
}

/** Adding the accounts and their first full sync; generous (a shared 2-core machine), never unbounded. */
function setupTimeoutMs(accounts: number, onboarding: BenchOptions['onboarding']): number {
  return 120_000 + accounts * (onboarding === 'import' ? 1_000 : 100);
}

async function main(): Promise<void> {
  let opts: BenchOptions;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    if (err.message) console.error(err.message);
    console.error(USAGE);
    process.exit(err.message ? 2 : 0);
  }
  const startedAt = new Date();
  const cleanup = new Cleanup();
  const interrupted = () => {
    log('interrupted: cleaning up');
    void cleanup
      .run()
      .then(stopAllChildren)
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const idleLoad = await backgroundLoad();
    log(`background load before the start: ${idleLoad.toFixed(2)} cores busy with other work`);
    const temporal = await startTemporal();
    cleanup.add('Temporal dev server', () => temporal.stop());
    log(`Temporal dev server on ${temporal.address}`);
    const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
    const profileDir = opts.cpuProfile ? path.join(RESULTS_DIR, `profiles-${stamp}`) : undefined;
    const imp = opts.skipImport ? undefined : await importComparison(opts, temporal, cleanup, profileDir);
    const events = opts.skipEvents ? undefined : await eventsBench(opts, temporal, cleanup);
    const latency = opts.skipLatency ? undefined : await importUnderLatency(opts, temporal, cleanup);
    // Fairness on a fleet of its own (--fairness-accounts, --fairness-interval) unless it runs on the steady
    // one. It runs before the steady state: the steady fleet, last, is then left on the in-memory server
    // instead of terminated one by one (about 3 minutes at 10,000 accounts).
    const ownFairness =
      opts.skipFairness || (opts.fairnessOnSteady && !opts.skipSteady)
        ? undefined
        : await runFairness(opts, temporal, cleanup, setupTimeoutMs(opts.fairnessAccounts, 'sync'));
    const both = opts.skipSteady
      ? undefined
      : await steadyState(opts, temporal, cleanup, profileDir && path.join(profileDir, 'steady'));
    const steady = both?.steady;
    const fairness = both?.fairness ?? ownFairness;
    const goals: Goal[] = allGoals(imp, latency, steady, fairness, events);
    const notes = findings(imp, steady, os.cpus().length);
    const finishedAt = new Date();
    const machine = {
      cores: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? '?',
      memoryBytes: os.totalmem(),
      platform: `${os.platform()} ${os.release()}`,
      node: process.version,
      postgres: await postgresVersion(),
      temporal: temporal.version,
      commit: gitCommit(),
      backgroundLoadCores: idleLoad,
    };
    const result = {
      kind: 'sevsync-bench',
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationSeconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
      inputs: {
        invoices: imp?.invoices ?? opts.invoices,
        importRounds: opts.importRounds,
        accounts: opts.accounts,
        steadySeconds: opts.steadySeconds,
        intervalSeconds: opts.intervalSeconds,
        invoicesPerAccount: opts.invoicesPerAccount,
        accountsPerSandbox: opts.accountsPerSandbox,
        latencySamples: opts.latencySamples,
        seed: opts.seed,
        quick: opts.quick,
        onboarding: opts.onboarding,
        pageSize: IMPORT_PAGE_SIZE,
        latencyInvoices: opts.latencyInvoices,
        latencyMs: opts.latencyMs,
        latencyPerObjectMs: opts.latencyPerObjectMs,
        fairnessInvoices: opts.fairnessInvoices,
        fairnessAccounts: opts.fairnessAccounts,
        fairnessIntervalSeconds: opts.fairnessInterval,
        fairnessSeconds: opts.fairnessSeconds,
        fairnessWindows: opts.fairnessWindows,
        fairnessOnSteady: opts.fairnessOnSteady,
        eventsInvoices: events?.invoices ?? opts.eventsInvoices,
        eventsRounds: opts.eventsRounds,
        idleAccounts: opts.idleAccounts,
        idleInvoices: opts.idleInvoices,
        idleSeconds: opts.idleSeconds,
        webhookEvents: opts.webhookEvents,
        lagSamples: opts.lagSamples,
        lagIntervalSeconds: opts.lagInterval,
      },
      machine,
      goals,
      import: imp || latency ? { ...imp, latencyProfile: latency ?? null } : null,
      steady: steady ?? null,
      fairness: fairness ?? null,
      events: events ?? null,
      findings: notes,
    };
    mkdirSync(RESULTS_DIR, { recursive: true });
    const file = path.join(RESULTS_DIR, `bench-${stamp}${opts.quick ? '-quick' : ''}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    const header =
      `sevsync bench${opts.quick ? ' (quick)' : ''}: ${machine.cores} cores (${machine.cpuModel}), node ${machine.node}, ` +
      `seed ${opts.seed}, ${result.durationSeconds.toFixed(0)} s; other work on the machine before the start: ` +
      `${idleLoad.toFixed(2)} cores`;
    console.log(
      render({
        header,
        cores: machine.cores,
        imp,
        latency,
        steady,
        fairness,
        events,
        goals,
        findings: notes,
        resultFile: path.relative(process.cwd(), file),
      }),
    );
  } finally {
    await cleanup.run();
    await stopAllChildren();
    await closeDefaultDispatchers();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
