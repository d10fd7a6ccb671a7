import type { LoopVariant } from './import-baseline';
import { runBaselineProcess } from './import-baseline';
import { pipelineSource, runPipeline } from './import-pipeline';
import type { Child, Cleanup } from './infra';
import { buildWorkflowBundle, checkpoint, createDatabase, dropDatabase, log } from './infra';
import type { Experiment } from './report';
import { otherLoad } from './report';
import type { HostedSandbox } from './sandbox-host';

// What-if runs that measure a product change before anyone makes it. On a shared machine one run can be a
// third slower than the next, so each kind is bracketed by two control runs (the unchanged code) and compared
// with their mean, not with the main comparison that ran minutes earlier.

interface Ctx {
  temporal: Child & { address: string };
  host: Child;
  sandbox: HostedSandbox;
  timeoutMs: number;
  cleanup: Cleanup;
}

async function inFreshDatabase<T>(ctx: Ctx, name: string, fn: (db: string) => Promise<T>): Promise<T> {
  await checkpoint();
  const db = await createDatabase('experiment');
  ctx.cleanup.add('experiment database', () => dropDatabase(db));
  log(`import: experiment "${name}"`);
  try {
    return await fn(db);
  } finally {
    await dropDatabase(db);
  }
}

type Draft = Omit<Experiment, 'vsReference'>;

/** Sets vsReference against the mean of the control runs of the same kind. */
function relative(drafts: Draft[]): Experiment[] {
  const controls = drafts.filter((d) => d.control);
  const ref = controls.reduce((a, d) => a + d.invoicesPerSecond, 0) / Math.max(1, controls.length);
  return drafts.map((d) => ({ ...d, vsReference: d.invoicesPerSecond / ref }));
}

async function loopExperiments(ctx: Ctx): Promise<Experiment[]> {
  const variants: { name: string; variant: LoopVariant; control: boolean }[] = [
    { name: 'plain loop (control, before)', variant: {}, control: true },
    { name: 'plain loop + prefetch of the next page', variant: { prefetch: true }, control: false },
    {
      name: 'plain loop, ANALYZE of all five tables when one is stale (before)',
      variant: { analyze: 'stale-all' },
      control: false,
    },
    {
      name: 'plain loop, ANALYZE after pages 1, 6, 11, ...',
      variant: { analyze: 'every-5' },
      control: false,
    },
    { name: 'plain loop (control, after)', variant: {}, control: true },
  ];
  const drafts: Draft[] = [];
  for (const v of variants) {
    const r = await inFreshDatabase(ctx, v.name, (db) =>
      runBaselineProcess(
        {
          databaseUrl: db,
          baseUrl: ctx.sandbox.url,
          token: ctx.sandbox.token,
          accountId: 'bench-experiment',
          invoices: ctx.sandbox.invoices,
          variant: v.variant,
        },
        { temporal: ctx.temporal.pid, sandbox: ctx.host.pid },
        ctx.timeoutMs,
      ),
    );
    drafts.push({
      name: v.name,
      kind: 'loop',
      control: v.control,
      variant: v.variant,
      seconds: r.seconds,
      invoicesPerSecond: r.invoicesPerSecond,
      fetchWaitMsMean: r.fetchMsMean,
      analyzeMsTotal: r.analyzeMsTotal,
      workerPeakRssBytes: null,
      rows: r.rows,
      otherLoadCores: otherLoad(r.cpu),
    });
  }
  return relative(drafts);
}

async function pipelineExperiments(ctx: Ctx): Promise<Experiment[]> {
  const bundle = await buildWorkflowBundle();
  ctx.cleanup.add('workflow bundle', async () => bundle.remove());
  const variants = [
    { name: 'pipeline (control, before)', prebuiltBundle: false, control: true },
    { name: 'pipeline, worker with a prebuilt workflow bundle', prebuiltBundle: true, control: false },
    { name: 'pipeline (control, after)', prebuiltBundle: false, control: true },
  ];
  const drafts: Draft[] = [];
  for (const v of variants) {
    const r = await inFreshDatabase(ctx, v.name, (db) =>
      runPipeline({
        databaseUrl: db,
        temporal: ctx.temporal,
        ...pipelineSource(ctx.host, ctx.sandbox),
        accountId: 'bench-experiment',
        timeoutMs: ctx.timeoutMs,
        ...(v.prebuiltBundle ? { prebuiltBundle: bundle.path } : {}),
      }),
    );
    drafts.push({
      name: v.name,
      kind: 'pipeline',
      control: v.control,
      variant: { prebuiltBundle: v.prebuiltBundle },
      seconds: r.seconds,
      invoicesPerSecond: r.invoicesPerSecond,
      fetchWaitMsMean: null,
      analyzeMsTotal: null,
      workerPeakRssBytes: r.workers.imports.importPeakRssBytes,
      rows: r.rows,
      otherLoadCores: otherLoad(r.cpu),
    });
  }
  return relative(drafts);
}

export async function runExperiments(ctx: Ctx): Promise<Experiment[]> {
  return [...(await loopExperiments(ctx)), ...(await pipelineExperiments(ctx))];
}
