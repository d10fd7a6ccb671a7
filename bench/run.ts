import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { IMPORT_PAGE_SIZE } from '../src/activities/bulk-import';
import { closeDefaultDispatchers, createSevdeskClient } from '../src/sevdesk/client';
import type { LoopVariant } from './import-baseline';
import { runBaselineProcess } from './import-baseline';
import { FLOOR_INCLUDES, runFloor } from './import-floor';
import { runPipeline } from './import-pipeline';
import {
  ADMIN_DATABASE_URL,
  Cleanup,
  buildWorkflowBundle,
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
import { profileFetch } from './profile-fetch';
import type { Experiment, Goal, ImportSection } from './report';
import { GOALS, cpuPerPage, importGoals, otherLoad, pageBreakdown, render } from './report';
import type { SteadyResult } from './steady-state';
import { runSteadyState } from './steady-state';

const RESULTS_DIR = path.join(__dirname, 'results');
/** A due sync that starts later than this counts as the worker falling behind. */
const LATE_MS = 5_000;

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

/** Flushes dirty pages between phases, so that one phase's writes are not paid for by the next. */
async function checkpoint(): Promise<void> {
  const sql = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    await sql`checkpoint`;
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

async function importComparison(
  opts: BenchOptions,
  temporal: Awaited<ReturnType<typeof startTemporal>>,
  cleanup: Cleanup,
  profileDir: string | undefined,
): Promise<ImportSection> {
  log(`import: generating ${opts.invoices.toLocaleString('en-US')} sandbox invoices (seed ${opts.seed})`);
  const host = await startSandboxHost([{ seed: opts.seed, invoices: opts.invoices }]);
  cleanup.add('import sandbox host', () => host.stop());
  const sb = host.sandboxes[0];
  if (!sb) throw new Error('no sandbox');
  // Warms the sandbox's code paths, so that the first timed phase does not pay for its JIT alone.
  const warm = createSevdeskClient({ baseUrl: sb.url, token: sb.token });
  for (let i = 0; i < 3; i++)
    await warm.listInvoices({ offset: i * IMPORT_PAGE_SIZE, limit: IMPORT_PAGE_SIZE });
  const timeoutMs = Math.max(180_000, (opts.invoices / 300) * 1000);

  await checkpoint();
  const pipelineDb = await createDatabase('pipeline');
  cleanup.add('pipeline database', () => dropDatabase(pipelineDb));
  log('import: 1 pipeline (Temporal, worker process)');
  const pipeline = await runPipeline({
    databaseUrl: pipelineDb,
    temporal,
    sandboxPid: host.pid,
    baseUrl: sb.url,
    token: sb.token,
    accountId: 'bench-pipeline',
    invoices: sb.invoices,
    timeoutMs,
    cpuProfileDir: profileDir && path.join(profileDir, 'worker'),
  });
  log(
    `import: pipeline ${Math.round(pipeline.invoicesPerSecond)} invoices/s in ${pipeline.seconds.toFixed(1)} s`,
  );

  await checkpoint();
  const baselineDb = await createDatabase('baseline');
  cleanup.add('baseline database', () => dropDatabase(baselineDb));
  log('import: 2 baseline (plain loop, process of its own)');
  const baseline = await runBaselineProcess(
    {
      databaseUrl: baselineDb,
      baseUrl: sb.url,
      token: sb.token,
      accountId: 'bench-baseline',
      invoices: sb.invoices,
    },
    { temporal: temporal.pid, sandbox: host.pid },
    timeoutMs,
    profileDir && path.join(profileDir, 'baseline'),
  );
  log(
    `import: baseline ${Math.round(baseline.invoicesPerSecond)} invoices/s in ${baseline.seconds.toFixed(1)} s`,
  );

  await checkpoint();
  const floorDb = await createDatabase('floor');
  cleanup.add('floor database', () => dropDatabase(floorDb));
  log('import: 3 floor (COPY)');
  const floor = await runFloor({
    databaseUrl: floorDb,
    baseUrl: sb.url,
    token: sb.token,
    accountId: 'bench-floor',
    invoices: sb.invoices,
  });
  log(`import: floor ${Math.round(floor.invoicesPerSecond)} invoices/s in ${floor.seconds.toFixed(2)} s`);

  const experiments: Experiment[] = [];
  if (opts.experiments) {
    const variants: { name: string; variant: LoopVariant }[] = [
      { name: 'plain loop + prefetch of the next page', variant: { prefetch: true } },
      { name: 'plain loop + ANALYZE after pages 1, 2, 4, 8, ...', variant: { analyze: 'doubling' } },
      { name: 'plain loop + both', variant: { prefetch: true, analyze: 'doubling' } },
      { name: 'plain loop again (control: run-to-run noise)', variant: {} },
    ];
    for (const v of variants) {
      await checkpoint();
      const db = await createDatabase('experiment');
      cleanup.add('experiment database', () => dropDatabase(db));
      log(`import: experiment "${v.name}"`);
      const r = await runBaselineProcess(
        {
          databaseUrl: db,
          baseUrl: sb.url,
          token: sb.token,
          accountId: 'bench-experiment',
          invoices: sb.invoices,
          variant: v.variant,
        },
        { temporal: temporal.pid, sandbox: host.pid },
        timeoutMs,
      );
      experiments.push({
        name: v.name,
        kind: 'loop',
        variant: v.variant,
        seconds: r.seconds,
        invoicesPerSecond: r.invoicesPerSecond,
        vsReference: r.invoicesPerSecond / baseline.invoicesPerSecond,
        fetchWaitMsMean: r.fetchMsMean,
        analyzeMsTotal: r.analyzeMsTotal,
        workerPeakRssBytes: null,
        rows: r.rows,
        otherLoadCores: otherLoad(r.cpu),
      });
      await dropDatabase(db);
    }
    const bundle = await buildWorkflowBundle();
    cleanup.add('workflow bundle', async () => bundle.remove());
    for (const v of [
      { name: 'pipeline, worker with a prebuilt workflow bundle', prebuiltBundle: true },
      { name: 'pipeline again (control: run-to-run noise)', prebuiltBundle: false },
    ]) {
      await checkpoint();
      const db = await createDatabase('experiment');
      cleanup.add('experiment database', () => dropDatabase(db));
      log(`import: experiment "${v.name}"`);
      const r = await runPipeline({
        databaseUrl: db,
        temporal,
        sandboxPid: host.pid,
        baseUrl: sb.url,
        token: sb.token,
        accountId: 'bench-experiment',
        invoices: sb.invoices,
        timeoutMs,
        ...(v.prebuiltBundle ? { prebuiltBundle: bundle.path } : {}),
      });
      experiments.push({
        name: v.name,
        kind: 'pipeline',
        variant: { prebuiltBundle: v.prebuiltBundle },
        seconds: r.seconds,
        invoicesPerSecond: r.invoicesPerSecond,
        vsReference: r.invoicesPerSecond / pipeline.invoicesPerSecond,
        fetchWaitMsMean: null,
        analyzeMsTotal: null,
        workerPeakRssBytes: r.worker.importPeakRssBytes,
        rows: r.rows,
        otherLoadCores: otherLoad(r.cpu),
      });
      await dropDatabase(db);
    }
  }

  const fetchProfile = await profileFetch({
    baseUrl: sb.url,
    token: sb.token,
    invoices: sb.invoices,
    pages: 8,
  });
  return {
    invoices: sb.invoices,
    pipeline,
    baseline,
    floor: { ...floor, includes: FLOOR_INCLUDES },
    fetchProfile,
    experiments,
    ratios: {
      pipelineToBaseline: pipeline.invoicesPerSecond / baseline.invoicesPerSecond,
      baselineToFloor: baseline.invoicesPerSecond / floor.invoicesPerSecond,
    },
  };
}

async function steadyState(
  opts: BenchOptions,
  temporal: Awaited<ReturnType<typeof startTemporal>>,
  cleanup: Cleanup,
): Promise<SteadyResult> {
  const count = Math.ceil(opts.accounts / opts.accountsPerSandbox);
  log(`steady: ${opts.accounts} accounts on ${count} sandbox(es) of ${opts.invoicesPerAccount} invoices`);
  const host = await startSandboxHost(
    Array.from({ length: count }, (_, i) => ({ seed: opts.seed + 1 + i, invoices: opts.invoicesPerAccount })),
  );
  cleanup.add('steady sandbox host', () => host.stop());
  await checkpoint();
  const db = await createDatabase('steady');
  cleanup.add('steady database', () => dropDatabase(db));
  return runSteadyState({
    databaseUrl: db,
    temporal,
    sandboxHost: host,
    accounts: opts.accounts,
    accountsPerSandbox: opts.accountsPerSandbox,
    intervalSeconds: opts.intervalSeconds,
    windowSeconds: opts.steadySeconds,
    latencySamples: opts.latencySamples,
    setupTimeoutMs: 120_000 + opts.accounts * (opts.onboarding === 'import' ? 1_000 : 300),
    onboarding: opts.onboarding,
  });
}

function findings(imp: ImportSection | undefined, steady: SteadyResult | undefined, cores: number): string[] {
  const out: string[] = [];
  const f = (v: number | null | undefined, d = 0) => (v === null || v === undefined ? '?' : v.toFixed(d));
  if (imp) {
    const bd = pageBreakdown(imp);
    const p = imp.pipeline;
    const basePageMs = (imp.baseline.seconds * 1000) / imp.baseline.pages;
    const budget = (IMPORT_PAGE_SIZE / GOALS.pipelineInvoicesPerSecond) * 1000;
    if (p.invoicesPerSecond < GOALS.pipelineInvoicesPerSecond) {
      out.push(
        `${GOALS.pipelineInvoicesPerSecond.toLocaleString('en-US')} invoices/s allows ${f(budget)} ms per 1,000-invoice page; ` +
          `the pipeline takes ${f(bd.pipelinePageMs)} ms and the plain loop already ${f(basePageMs)} ms ` +
          `(fetch ${f(bd.baselineFetchMs)}, process ${f(bd.baselineProcessMs)}, ANALYZE ${f(bd.analyzeMsPerPage)} per page): ` +
          'the goal is missed by the fetch and write code itself, before any Temporal cost.',
      );
    }
    const c = cpuPerPage(p.cpu, p.pages, cores);
    out.push(
      `CPU: one page costs ${f(c.totalMs)} ms of CPU across the processes in the pipeline (worker ` +
        `${f(c.msPerPage.worker)}, PostgreSQL ${f(c.msPerPage.postgres)}, sandbox ${f(c.msPerPage.sandbox)}, Temporal ` +
        `${f(c.msPerPage.temporal)}): with everything on ${cores} cores, no schedule reaches more than ` +
        `${f(c.boundInvoicesPerSecond)} invoices/s; the import runs one page at a time, so it gets far less.`,
    );
    out.push(
      `Fetch: of ${f(bd.baselineFetchMs)} ms per page, the sandbox's HTTP answer (${f((bd.pageBytes ?? 0) / 1e6, 1)} MB) takes ` +
        `${f(bd.fetchHttpMs)} ms, JSON.parse ${f(bd.fetchParseMs)} ms, zod validation and mapping ${f(bd.fetchValidateMs)} ms.`,
    );
    const top = imp.baseline.statements.filter((s) => !s.label.startsWith('(transaction')).slice(0, 3);
    out.push(
      `Write: processInvoicePage ${f(bd.baselineProcessMs)} ms per page = writeInvoicePage transaction ${f(bd.writeTransactionMs)} ms ` +
        `(largest: ${top.map((s) => `${s.label} ${f(s.msPerPage)} ms`).join('; ')}) + known-contacts lookup ` +
        `${f(bd.contactLookupMs)} ms + classify/toInvoiceRow ${f(bd.transformMs)} ms.`,
    );
    out.push(
      `Temporal and bookkeeping per page: ${f(bd.pipelinePageMs - basePageMs)} ms more than the plain loop = ` +
        `importPage doing more than fetch+process+ANALYZE ${f(bd.activityExtraMs)} ms (interface lookup and token decryption, ` +
        `checkpoint transaction, heartbeats, sharing the worker process with workflow tasks) + workflow task round trip ` +
        `${f(bd.workflowTaskGapMs)} ms + activity queue ${f(bd.queueMs)} ms + continue-as-new ${f(bd.continueAsNewMsPerPage, 1)} ms.`,
    );
    out.push(
      `Floor: the same rows by COPY take ${f(imp.floor.seconds, 2)} s (${f(imp.floor.invoicesPerSecond)} invoices/s); ` +
        `the plain loop is ${f(imp.ratios.baselineToFloor, 2)}x of it.`,
    );
    for (const [phase, cpu] of [
      ['pipeline', p.cpu],
      ['baseline', imp.baseline.cpu],
    ] as const) {
      const other = otherLoad(cpu);
      if (other > 0.15)
        out.push(
          `Noise: processes outside the bench used ${other.toFixed(2)} cores during the ${phase}; its figures are pessimistic.`,
        );
    }
  }
  if (steady) {
    const verdict =
      steady.syncs.due === 0
        ? 'no sync fell due in the window (make it longer than the interval)'
        : steady.syncs.missed === 0 && (steady.syncs.startLatenessMs.p99 ?? Infinity) < LATE_MS
          ? 'one worker keeps up with the interval'
          : 'one worker does not keep up with the interval';
    out.push(
      `Steady state: ${steady.syncs.due} syncs fell due in ${f(steady.windowSeconds)} s, ${steady.syncs.missed} missed, ` +
        `started p50 ${f(steady.syncs.startLatenessMs.p50)} ms / p99 ${f(steady.syncs.startLatenessMs.p99)} ms after due: ` +
        `${verdict}; worker ${f(steady.worker.cpuCores, 2)} cores, sync activity p50 ${f(steady.syncs.startToCloseMs.p50)} ms.`,
    );
    const other = otherLoad(steady.cpu);
    if (other > 0.15)
      out.push(`Noise: processes outside the bench used ${other.toFixed(2)} cores during the steady window.`);
  }
  return out;
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
    const steady = opts.skipSteady ? undefined : await steadyState(opts, temporal, cleanup);
    const goals: Goal[] = importGoals(imp);
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
      },
      machine,
      goals,
      import: imp ?? null,
      steady: steady ?? null,
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
        steady,
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
