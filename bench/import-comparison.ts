import path from 'node:path';
import { IMPORT_PAGE_SIZE } from '../src/activities/bulk-import';
import { createSevdeskClient } from '../src/sevdesk/client';
import { runExperiments } from './experiments';
import type { BaselineProcessResult } from './import-baseline';
import { runBaselineProcess } from './import-baseline';
import { FLOOR_INCLUDES, runFloor } from './import-floor';
import type { PipelineResult } from './import-pipeline';
import { pipelineSource, runPipeline } from './import-pipeline';
import type { Cleanup, startTemporal } from './infra';
import { checkpoint, createDatabase, dropDatabase, log, startSandboxHost } from './infra';
import type { BenchOptions } from './options';
import { profileFetch } from './profile-fetch';
import type { ImportSection } from './report';
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

  // Pipeline and plain loop alternate (P B B P ...): a machine that gets busier or quieter during the run
  // shifts both alike instead of favouring whichever ran first. Details come from the first run of each.
  const order = Array.from({ length: opts.importRounds }, (_, r) =>
    r % 2 === 0 ? ['P', 'B'] : ['B', 'P'],
  ).flat();
  let pipeline: PipelineResult | undefined;
  let baseline: BaselineProcessResult | undefined;
  const rounds: ImportSection['rounds'] = { pipeline: [], baseline: [] };
  for (const kind of order) {
    await checkpoint();
    if (kind === 'P') {
      const db = await createDatabase('pipeline');
      cleanup.add('pipeline database', () => dropDatabase(db));
      log(`import: 1 pipeline (Temporal, worker process), run ${rounds.pipeline.length + 1}`);
      const r = await runPipeline({
        databaseUrl: db,
        temporal,
        ...pipelineSource(host, sb),
        accountId: 'bench-pipeline',
        timeoutMs,
        cpuProfileDir: pipeline ? undefined : profileDir && path.join(profileDir, 'worker'),
      });
      pipeline ??= r;
      rounds.pipeline.push({
        invoicesPerSecond: r.invoicesPerSecond,
        seconds: r.seconds,
        otherLoadCores: otherLoad(r.cpu),
      });
      log(`import: pipeline ${Math.round(r.invoicesPerSecond)} invoices/s in ${r.seconds.toFixed(1)} s`);
      await dropDatabase(db);
    } else {
      const db = await createDatabase('baseline');
      cleanup.add('baseline database', () => dropDatabase(db));
      log(`import: 2 baseline (plain loop, process of its own), run ${rounds.baseline.length + 1}`);
      const r = await runBaselineProcess(
        {
          databaseUrl: db,
          baseUrl: sb.url,
          token: sb.token,
          accountId: 'bench-baseline',
          invoices: sb.invoices,
        },
        { temporal: temporal.pid, sandbox: host.pid },
        timeoutMs,
        baseline ? undefined : profileDir && path.join(profileDir, 'baseline'),
      );
      baseline ??= r;
      rounds.baseline.push({
        invoicesPerSecond: r.invoicesPerSecond,
        seconds: r.seconds,
        otherLoadCores: otherLoad(r.cpu),
      });
      log(`import: baseline ${Math.round(r.invoicesPerSecond)} invoices/s in ${r.seconds.toFixed(1)} s`);
      await dropDatabase(db);
    }
  }
  if (!pipeline || !baseline) throw new Error('no import round ran');
  const meanRate = (xs: { invoicesPerSecond: number }[]) =>
    xs.reduce((a, x) => a + x.invoicesPerSecond, 0) / Math.max(1, xs.length);
  const throughput = { pipeline: meanRate(rounds.pipeline), baseline: meanRate(rounds.baseline) };

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

  const experiments = opts.experiments
    ? await runExperiments({ temporal, host, sandbox: sb, timeoutMs, cleanup })
    : [];

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
    rounds,
    throughput,
    ratios: {
      pipelineToBaseline: throughput.pipeline / throughput.baseline,
      baselineToFloor: throughput.baseline / floor.invoicesPerSecond,
    },
  };
}
