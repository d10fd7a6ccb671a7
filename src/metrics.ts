// sevsync's own Prometheus metrics (prom-client), served by the worker on /metrics next to the Temporal SDK's.
//
// Counted in one place: src/worker/instrument.ts observes every activity's result (syncs, invoices written, records
// reported invalid, import progress) and every sevDesk request (via the client's onRequest hook), labelled
// by account. Activities need not call these themselves; code that adds a new fact adds a metric here and
// counts it from the worker's observer (or, if only the activity can see it, there and only there).
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'sevsync_' });

/** A metric in sevsync's registry. */
const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
  new Counter({ name, help, labelNames, registers: [registry] });
const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
  new Gauge({ name, help, labelNames, registers: [registry] });

export const metrics = {
  syncs: counter(
    'sevsync_syncs_total',
    'Incremental sync cycles, by account and outcome (ok, skipped, failed)',
    ['account', 'outcome'],
  ),
  invoicesWritten: counter(
    'sevsync_invoices_written_total',
    'Invoices written to the OneCockpit tables, by account and source (sync, import)',
    ['account', 'source'],
  ),
  recordsInvalid: counter(
    'sevsync_records_invalid_total',
    'sevDesk records reported invalid (stored as invalid-payload issues), by account and source',
    ['account', 'source'],
  ),
  sevdeskRequests: counter(
    'sevsync_sevdesk_requests_total',
    'HTTP requests sent to sevDesk, by account and status class (2xx, 4xx, 429, 5xx, none)',
    ['account', 'status'],
  ),
  sevdeskRateLimited: counter(
    'sevsync_sevdesk_rate_limited_total',
    'sevDesk replies with HTTP 429, by account',
    ['account'],
  ),
  importPages: counter(
    'sevsync_import_pages_total',
    'Import and reconcile pages written, by account and kind',
    ['account', 'kind'],
  ),
  importDone: gauge(
    'sevsync_import_invoices_done',
    'Invoices read so far by the running import or reconcile walk, by account and kind',
    ['account', 'kind'],
  ),
  importTotal: gauge(
    'sevsync_import_invoices_total',
    'Invoices sevDesk counts for the running walk (countAll), by account and kind',
    ['account', 'kind'],
  ),
  webhookDeliveries: counter(
    'sevsync_webhook_deliveries_total',
    'Webhook delivery attempts, by endpoint and outcome (ok: a 2xx answer; failed)',
    ['endpoint', 'outcome'],
  ),
  webhookDisabled: counter(
    'sevsync_webhook_endpoints_disabled_total',
    'Webhook endpoints disabled after failing for the give-up time, by endpoint',
    ['endpoint'],
  ),
  activityFailures: counter(
    'sevsync_activity_failures_total',
    'Activity attempts that failed (Temporal retries most), by activity and error type',
    ['activity', 'type'],
  ),
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
