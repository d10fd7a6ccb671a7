import path from 'node:path';
import { IMPORT_PAGE_SIZE } from '../src/activities/bulk-import';
import { createSevdeskClient } from '../src/sevdesk/client';
import type { LoopVariant } from './import-baseline';
import { runBaselineProcess } from './import-baseline';
import { FLOOR_INCLUDES, runFloor } from './import-floor';
import { runPipeline } from './import-pipeline';
import type { Cleanup, startTemporal } from './infra';
import {
  buildWorkflowBundle,
  checkpoint,
  createDatabase,
  dropDatabase,
  log,
  startSandboxHost,
} from './infra';
import type { BenchOptions } from './options';
import { profileFetch } from './profile-fetch';
import type { Experiment, ImportSection } from './report';
import { otherLoad } from './report';

// The bulk-import comparison: 1 the real pipeline, 2 the plain loop, 3 the COPY floor, on one sandbox's data,
// each into a fresh database; then the fetch profile and, on request, the what-if variants.

export async function importComparison(
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
