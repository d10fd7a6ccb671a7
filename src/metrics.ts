// sevsync's own Prometheus metrics (prom-client), served by the worker on /metrics next to the Temporal SDK's.
//
// Counted in one place: src/worker.ts observes every activity's result (syncs, invoices written, records
// reported invalid, import progress) and every sevDesk request (via the client's onRequest hook), labelled
// by account. Activities need not call these themselves; code that adds a new fact adds a metric here and
// counts it from the worker's observer (or, if only the activity can see it, there and only there).
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'sevsync_' });

export const metrics = {
  syncs: new Counter({
    name: 'sevsync_syncs_total',
    help: 'Incremental sync cycles, by account and outcome (ok, skipped, failed)',
    labelNames: ['account', 'outcome'] as const,
    registers: [registry],
  }),
  invoicesWritten: new Counter({
    name: 'sevsync_invoices_written_total',
    help: 'Invoices written to the OneCockpit tables, by account and source (sync, import)',
    labelNames: ['account', 'source'] as const,
    registers: [registry],
  }),
  recordsInvalid: new Counter({
    name: 'sevsync_records_invalid_total',
    help: 'sevDesk records reported invalid (stored as invalid-payload issues), by account and source',
    labelNames: ['account', 'source'] as const,
    registers: [registry],
  }),
  sevdeskRequests: new Counter({
    name: 'sevsync_sevdesk_requests_total',
    help: 'HTTP requests sent to sevDesk, by account and status class (2xx, 4xx, 429, 5xx, none)',
    labelNames: ['account', 'status'] as const,
    registers: [registry],
  }),
  sevdeskRateLimited: new Counter({
    name: 'sevsync_sevdesk_rate_limited_total',
    help: 'sevDesk replies with HTTP 429, by account',
    labelNames: ['account'] as const,
    registers: [registry],
  }),
  importPages: new Counter({
    name: 'sevsync_import_pages_total',
    help: 'Import and reconcile pages written, by account and kind',
    labelNames: ['account', 'kind'] as const,
    registers: [registry],
  }),
  importDone: new Gauge({
    name: 'sevsync_import_invoices_done',
    help: 'Invoices read so far by the running import or reconcile walk, by account and kind',
    labelNames: ['account', 'kind'] as const,
    registers: [registry],
  }),
  importTotal: new Gauge({
    name: 'sevsync_import_invoices_total',
    help: 'Invoices sevDesk counts for the running walk (countAll), by account and kind',
    labelNames: ['account', 'kind'] as const,
    registers: [registry],
  }),
  activityFailures: new Counter({
    name: 'sevsync_activity_failures_total',
    help: 'Activity attempts that failed (Temporal retries most), by activity and error type',
    labelNames: ['activity', 'type'] as const,
    registers: [registry],
  }),
};

/** The status label of a request: a class, so the label set stays small. */
export function statusClass(status: number | null): string {
  if (status === null) return 'none';
  if (status === 429) return '429';
  return `${Math.floor(status / 100)}xx`;
}

export async function renderMetrics(): Promise<string> {
  return registry.metrics();
}
