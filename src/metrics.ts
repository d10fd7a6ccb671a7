// sevsync's own Prometheus metrics (prom-client), served by the worker on /metrics next to the Temporal SDK's.
//
// Counted in one place: src/worker/instrument.ts observes every activity's result (syncs, invoices written, records
// reported invalid, import progress) and every sevDesk request (via the client's onRequest hook). Activities
// need not call these themselves; code that adds a new fact adds a metric here and counts it from the
// worker's observer (or, if only the activity can see it, there and only there).
//
// Callers always name the account (and a webhook endpoint); the series carry those labels only with
// SEVSYNC_METRICS_PER_ACCOUNT=1. By default they are aggregated over accounts: at 10,000 accounts a series
// per account and label value is more than a Prometheus server takes from one target.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'sevsync_' });

/** Labels whose values grow with the accounts: exported only per account. */
const PER_ACCOUNT_LABELS: ReadonlySet<string> = new Set(['account', 'endpoint']);

export interface MetricsSettings {
  /** Label series by account and webhook endpoint (SEVSYNC_METRICS_PER_ACCOUNT=1); else aggregate them. */
  perAccount: boolean;
}

/** SEVSYNC_METRICS_PER_ACCOUNT as loadConfig reads it (which rejects other values before a worker starts). */
export const metricsSettingsFromEnv = (env: NodeJS.ProcessEnv): MetricsSettings => ({
  perAccount: env['SEVSYNC_METRICS_PER_ACCOUNT'] === '1' || env['SEVSYNC_METRICS_PER_ACCOUNT'] === 'true',
});

let settings: MetricsSettings = metricsSettingsFromEnv(process.env);

/** A running walk counts in the aggregate import gauges until it ends or has not moved for this long. */
const WALK_STALE_MS = 10 * 60_000;

type Labels<L extends string> = Record<L, string>;

/** The labels a series is exported with under the current settings. */
function exported<L extends string>(labelNames: readonly L[]): L[] {
  return settings.perAccount ? [...labelNames] : labelNames.filter((l) => !PER_ACCOUNT_LABELS.has(l));
}

/** The help text, saying whether the series are per account (SEVSYNC_METRICS_PER_ACCOUNT) or not. */
function helpText<L extends string>(help: string, labelNames: readonly L[]): string {
  const scoped = labelNames.filter((l) => PER_ACCOUNT_LABELS.has(l));
  if (scoped.length === 0) return help;
  return settings.perAccount ? `${help}; by ${scoped.join(' and ')}` : `${help}; all accounts together`;
}

function exportedValues<L extends string>(labels: Labels<L>): Partial<Labels<L>> {
  if (settings.perAccount) return labels;
  const out: Partial<Labels<L>> = {};
  for (const [k, v] of Object.entries(labels) as [L, string][]) if (!PER_ACCOUNT_LABELS.has(k)) out[k] = v;
  return out;
}

/** A counter in sevsync's registry; configureMetrics creates it again with the labels of the new settings. */
class SevsyncCounter<L extends string> {
  private counter: Counter<string>;

  constructor(
    private readonly name: string,
    private readonly help: string,
    private readonly labelNames: readonly L[],
  ) {
    this.counter = this.create();
  }

  create(): Counter<string> {
    registry.removeSingleMetric(this.name);
    this.counter = new Counter({
      name: this.name,
      help: helpText(this.help, this.labelNames),
      labelNames: exported(this.labelNames),
      registers: [registry],
    });
    return this.counter;
  }

  inc(labels: Labels<L>, value = 1): void {
    this.counter.inc(exportedValues(labels), value);
  }
}

/**
 * The progress of the running import and reconcile walks (`sevsync_import_invoices_done` and `_total`). Per
 * account a gauge keeps each account's last figure; aggregated, it is the sum over the walks this worker
 * runs: a walk leaves it when it finishes or fails, or when it has not moved for WALK_STALE_MS (it went
 * elsewhere).
 */
class WalkGauge {
  private gauge: Gauge<string>;
  private readonly walks = new Map<string, { kind: string; value: number; at: number }>();

  constructor(
    private readonly name: string,
    private readonly help: string,
  ) {
    this.gauge = this.create();
  }

  create(): Gauge<string> {
    registry.removeSingleMetric(this.name);
    this.walks.clear();
    const walks = this.walks;
    this.gauge = new Gauge({
      name: this.name,
      help: helpText(this.help, ['account', 'kind']),
      labelNames: exported(['account', 'kind']),
      registers: [registry],
      ...(settings.perAccount
        ? {}
        : {
            collect(this: Gauge<string>) {
              const now = Date.now();
              const sums = new Map<string, number>();
              for (const [key, w] of walks) {
                if (now - w.at > WALK_STALE_MS) walks.delete(key);
                else sums.set(w.kind, (sums.get(w.kind) ?? 0) + w.value);
              }
              this.reset();
              for (const [kind, sum] of sums) this.set({ kind }, sum);
            },
          }),
    });
    return this.gauge;
  }

  set(labels: { account: string; kind: string }, value: number): void {
    if (settings.perAccount) this.gauge.set(labels, value);
    else this.walks.set(`${labels.kind}\0${labels.account}`, { kind: labels.kind, value, at: Date.now() });
  }

  /** The walk ended: it no longer counts in the aggregate (per account its last figure stays). */
  end(labels: { account: string; kind: string }): void {
    this.walks.delete(`${labels.kind}\0${labels.account}`);
  }
}

export const metrics = {
  syncs: new SevsyncCounter(
    'sevsync_syncs_total',
    'Incremental sync cycles, by outcome (ok, skipped, failed)',
    ['account', 'outcome'],
  ),
  invoicesWritten: new SevsyncCounter(
    'sevsync_invoices_written_total',
    'Invoices written to the OneCockpit tables, by source (sync, import)',
    ['account', 'source'],
  ),
  recordsInvalid: new SevsyncCounter(
    'sevsync_records_invalid_total',
    'sevDesk records reported invalid (stored as invalid-payload issues), by source',
    ['account', 'source'],
  ),
  sevdeskRequests: new SevsyncCounter(
    'sevsync_sevdesk_requests_total',
    'HTTP requests sent to sevDesk, by status class (2xx, 4xx, 429, 5xx, none)',
    ['account', 'status'],
  ),
  sevdeskRateLimited: new SevsyncCounter(
    'sevsync_sevdesk_rate_limited_total',
    'sevDesk replies with HTTP 429',
    ['account'],
  ),
  importPages: new SevsyncCounter(
    'sevsync_import_pages_total',
    'Import and reconcile pages written, by kind',
    ['account', 'kind'],
  ),
  importDone: new WalkGauge(
    'sevsync_import_invoices_done',
    'Invoices read so far by the running import or reconcile walks, by kind',
  ),
  importTotal: new WalkGauge(
    'sevsync_import_invoices_total',
    'Invoices sevDesk counts for the running walks (countAll), by kind',
  ),
  webhookDeliveries: new SevsyncCounter(
    'sevsync_webhook_deliveries_total',
    'Webhook delivery attempts, by outcome (ok: a 2xx answer; failed)',
    ['endpoint', 'outcome'],
  ),
  webhookDisabled: new SevsyncCounter(
    'sevsync_webhook_endpoints_disabled_total',
    'Webhook endpoints disabled after failing for the give-up time',
    ['endpoint'],
  ),
  activityFailures: new SevsyncCounter(
    'sevsync_activity_failures_total',
    'Activity attempts that failed (Temporal retries most), by activity and error type',
    ['activity', 'type'],
  ),
};

/**
 * Labels series per account or not. The worker's settings are read from the environment when this module
 * loads; this switches them (tests, an embedding process). Every metric of sevsync's starts again from zero.
 */
export function configureMetrics(next: MetricsSettings): void {
  settings = { ...next };
  for (const m of Object.values(metrics)) m.create();
}

export const metricsSettings = (): MetricsSettings => ({ ...settings });

/** The status label of a request: a class, so the label set stays small. */
export function statusClass(status: number | null): string {
  if (status === null) return 'none';
  if (status === 429) return '429';
  return `${Math.floor(status / 100)}xx`;
}

export async function renderMetrics(): Promise<string> {
  return registry.metrics();
}
