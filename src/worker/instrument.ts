// The activity metrics (defined in src/metrics.ts), counted here only: each activity's result, failures and
// sevDesk requests, named by account (the series carry it with SEVSYNC_METRICS_PER_ACCOUNT=1). Keyed by
// keyof Activities, so a renamed activity fails to compile here.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Activities } from '../activities';
import { metrics, statusClass } from '../metrics';
import type { SevdeskClientOptions } from '../sevdesk/client';

type ActivityName = keyof Activities;
type Input<N extends ActivityName> = Parameters<Activities[N]>[0];
type Result<N extends ActivityName> = Awaited<ReturnType<Activities[N]>>;

/** What an activity's result counts, once it succeeded. */
type Observer<N extends ActivityName> = (account: string, result: Result<N>, input: Input<N>) => void;

/** The account an activity works for, so the sevDesk client factory can label its requests. */
const activityAccount = new AsyncLocalStorage<{ accountId: string }>();

/** The sync cycles: sevsync_syncs_total counts each, failed ones too. */
const SYNCS: ReadonlySet<ActivityName> = new Set<ActivityName>(['syncAccount', 'syncAccountQuick']);

/** A figure from a result: a counter throws on anything but a finite number, and this must never fail. */
const num = (v: number | null | undefined): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

function countSync(account: string, r: Result<'syncAccount' | 'syncAccountQuick'>): void {
  metrics.syncs.inc({ account, outcome: r.skipped ? 'skipped' : 'ok' });
  metrics.invoicesWritten.inc({ account, source: 'sync' }, num(r.counts.written));
  metrics.recordsInvalid.inc({ account, source: 'sync' }, num(r.counts.invalid));
}

function countPages(
  account: string,
  kind: Input<'importPage'>['kind'],
  pages: number,
  r: Result<'importPage'>,
): void {
  metrics.importPages.inc({ account, kind }, num(pages));
  metrics.importDone.set({ account, kind }, num(r.done));
  if (typeof r.total === 'number') metrics.importTotal.set({ account, kind }, r.total);
}

/** The activities whose results count; the others count only their failures. */
const observers: { [N in ActivityName]?: Observer<N> } = {
  syncAccount: countSync,
  // A quick cycle that handed over to the regular activity did nothing yet: that one counts.
  syncAccountQuick: (account, r) => {
    if (r.skipped !== 'needs-activity') countSync(account, r);
  },
  importPage: (account, r, input) => countPages(account, input.kind, 1, r),
  importPages: (account, r, input) => countPages(account, input.kind, r.pages, r),
  finishImport: (account, r, input) => {
    metrics.invoicesWritten.inc({ account, source: 'import' }, num(r.written));
    metrics.recordsInvalid.inc({ account, source: 'import' }, num(r.invalid));
    endWalk(account, input.kind);
  },
  failImport: (account, _r, input) => endWalk(account, input.kind),
};

/** A walk that finished or stopped leaves the running walks' gauges. */
function endWalk(account: string, kind: Input<'finishImport'>['kind']): void {
  metrics.importDone.end({ account, kind });
  metrics.importTotal.end({ account, kind });
}

/** The failure's type label: an ApplicationFailure's type, else the error's name. */
function failureType(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'type' in err && typeof err.type === 'string')
    return err.type;
  return err instanceof Error ? err.name : 'unknown';
}

function wrap<N extends ActivityName>(name: N, fn: Activities[N]) {
  // To the compiler Activities[N] is a union of the activities; each is called with its own arguments.
  const run = fn as unknown as (...args: Parameters<Activities[N]>) => Promise<Result<N>>;
  const observe = observers[name] as Observer<N> | undefined;
  return async (...args: Parameters<Activities[N]>): Promise<Result<N>> => {
    const input: Input<N> = args[0];
    const account = input.accountId;
    try {
      const result = await activityAccount.run({ accountId: account }, () => run(...args));
      observe?.(account, result, input);
      return result;
    } catch (err) {
      if (SYNCS.has(name)) metrics.syncs.inc({ account, outcome: 'failed' });
      metrics.activityFailures.inc({ activity: name, type: failureType(err) });
      throw err;
    }
  };
}

/** Every activity wrapped: the account context for the sevDesk clients, metrics from results and failures. */
export function instrument(activities: Activities): Activities {
  const wrapped: Partial<Record<ActivityName, unknown>> = {};
  for (const name of Object.keys(activities) as ActivityName[]) wrapped[name] = wrap(name, activities[name]);
  return wrapped as Activities;
}

/** The onRequest hook of a sevDesk client made inside an activity: its requests count for that account. */
export function countSevdeskRequests(): NonNullable<SevdeskClientOptions['onRequest']> {
  const account = activityAccount.getStore()?.accountId ?? 'unknown';
  return (e) => {
    metrics.sevdeskRequests.inc({ account, status: statusClass(e.status) });
    if (e.rateLimited) metrics.sevdeskRateLimited.inc({ account });
  };
}
