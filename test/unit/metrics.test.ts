import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Activities } from '../../src/activities';
import { configEnv, loadConfig } from '../../src/config';
import { configureMetrics, metrics, metricsSettingsFromEnv, renderMetrics } from '../../src/metrics';
import { countSevdeskRequests, instrument } from '../../src/worker/instrument';
import type { OpsServer, OpsSource } from '../../src/worker/ops-server';
import { isLoopback, startOpsServer } from '../../src/worker/ops-server';

// What /metrics exports: by default no series per account (10,000 accounts would be more series than a
// Prometheus server takes from one target), per account with SEVSYNC_METRICS_PER_ACCOUNT=1; and who reads it.

const walk = { done: 40, total: 100, nextOffset: 40, finished: false, paused: false, pass: 1 };

/** Activities that do nothing but answer, instrumented as the worker does; each makes a sevDesk request. */
function fakeActivities(): Activities {
  const request = (status: number) =>
    countSevdeskRequests()({ status, rateLimited: status === 429, durationMs: 1 });
  const fakes = {
    syncAccount: async () => {
      request(200);
      return { skipped: null, counts: { written: 3, invalid: 1 }, invoiceCursor: null };
    },
    importPages: async () => {
      request(429);
      return { ...walk, pages: 2 };
    },
    finishImport: async () => ({ written: 100, invalid: 0 }),
  };
  return instrument(fakes as unknown as Activities);
}

/** Every sevsync metric with a value: an account's sync, import and sevDesk requests, a webhook delivery. */
async function countEverything(accounts: string[]): Promise<void> {
  const a = fakeActivities();
  for (const accountId of accounts) {
    await a.syncAccount({ accountId } as Parameters<Activities['syncAccount']>[0]);
    await a.importPages({ accountId, kind: 'import' } as Parameters<Activities['importPages']>[0]);
  }
  metrics.webhookDeliveries.inc({ endpoint: 'whe_1', outcome: 'ok' }, 2);
  metrics.webhookDisabled.inc({ endpoint: 'whe_1' });
  metrics.activityFailures.inc({ activity: 'syncAccount', type: 'SevdeskUnavailable' });
}

/** The sample lines of sevsync's own series (no comments, no process metrics). */
const samples = (text: string) =>
  text.split('\n').filter((l) => /^sevsync_/.test(l) && !/^sevsync_(process|nodejs)_/.test(l));

const value = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
};

afterEach(() => configureMetrics({ perAccount: false }));

describe('metric labels', () => {
  it('aggregates over accounts by default: no series has an account or endpoint label', async () => {
    expect(metricsSettingsFromEnv({})).toEqual({ perAccount: false });
    configureMetrics(metricsSettingsFromEnv({}));
    await countEverything(['acme', 'globex']);
    const text = await renderMetrics();
    const lines = samples(text);
    expect(lines.length).toBeGreaterThan(8);
    for (const l of lines) expect(l).not.toMatch(/[{,](account|endpoint)=/);
    // The names stay; the values are the sums over the accounts.
    expect(value(text, 'sevsync_syncs_total{outcome="ok"}')).toBe(2);
    expect(value(text, 'sevsync_invoices_written_total{source="sync"}')).toBe(6);
    expect(value(text, 'sevsync_sevdesk_requests_total{status="2xx"}')).toBe(2);
    expect(value(text, 'sevsync_sevdesk_rate_limited_total')).toBe(2);
    expect(value(text, 'sevsync_import_pages_total{kind="import"}')).toBe(4);
    expect(value(text, 'sevsync_import_invoices_done{kind="import"}')).toBe(80);
    expect(value(text, 'sevsync_import_invoices_total{kind="import"}')).toBe(200);
    expect(value(text, 'sevsync_webhook_deliveries_total{outcome="ok"}')).toBe(2);
    expect(value(text, 'sevsync_webhook_endpoints_disabled_total')).toBe(1);
    expect(text).toContain(
      '# HELP sevsync_syncs_total Incremental sync cycles, by outcome (ok, skipped, failed); all',
    );
  });

  it('labels by account and endpoint with SEVSYNC_METRICS_PER_ACCOUNT=1', async () => {
    expect(metricsSettingsFromEnv({ SEVSYNC_METRICS_PER_ACCOUNT: '1' })).toEqual({ perAccount: true });
    configureMetrics({ perAccount: true });
    await countEverything(['acme', 'globex']);
    const text = await renderMetrics();
    expect(value(text, 'sevsync_syncs_total{account="acme",outcome="ok"}')).toBe(1);
    expect(value(text, 'sevsync_invoices_written_total{account="globex",source="sync"}')).toBe(3);
    expect(value(text, 'sevsync_sevdesk_requests_total{account="acme",status="429"}')).toBe(1);
    expect(value(text, 'sevsync_sevdesk_rate_limited_total{account="acme"}')).toBe(1);
    expect(value(text, 'sevsync_import_invoices_done{account="acme",kind="import"}')).toBe(40);
    expect(value(text, 'sevsync_webhook_deliveries_total{endpoint="whe_1",outcome="ok"}')).toBe(2);
    // Every metric that names an account exports it.
    for (const name of [
      'sevsync_syncs_total',
      'sevsync_invoices_written_total',
      'sevsync_records_invalid_total',
      'sevsync_sevdesk_requests_total',
      'sevsync_sevdesk_rate_limited_total',
      'sevsync_import_pages_total',
      'sevsync_import_invoices_done',
      'sevsync_import_invoices_total',
    ])
      expect(
        samples(text).filter((l) => l.startsWith(`${name}{`) && l.includes('account="acme"')),
        name,
      ).not.toEqual([]);
  });

  it('counts a finished walk out of the aggregate progress gauges', async () => {
    const a = fakeActivities();
    await a.importPages({ accountId: 'acme', kind: 'import' } as Parameters<Activities['importPages']>[0]);
    await a.importPages({ accountId: 'globex', kind: 'reconcile' } as Parameters<
      Activities['importPages']
    >[0]);
    let text = await renderMetrics();
    expect(value(text, 'sevsync_import_invoices_done{kind="import"}')).toBe(40);
    expect(value(text, 'sevsync_import_invoices_done{kind="reconcile"}')).toBe(40);
    await a.finishImport({ accountId: 'acme', kind: 'import' } as Parameters<Activities['finishImport']>[0]);
    text = await renderMetrics();
    expect(value(text, 'sevsync_import_invoices_done{kind="import"}')).toBeUndefined();
    expect(value(text, 'sevsync_import_invoices_done{kind="reconcile"}')).toBe(40);
    expect(value(text, 'sevsync_invoices_written_total{source="import"}')).toBe(100);
  });

  it('is a worker setting loadConfig checks and configEnv hands on', () => {
    const ops = loadConfig({ SEVSYNC_METRICS_PER_ACCOUNT: '1', SEVSYNC_METRICS_TOKEN: 'x'.repeat(32) }).ops!;
    expect(ops.metrics).toEqual({ perAccount: true, token: 'x'.repeat(32) });
    expect(loadConfig({}).ops?.metrics).toEqual({ perAccount: false, token: undefined });
    expect(() => loadConfig({ SEVSYNC_METRICS_PER_ACCOUNT: 'yes' })).toThrow(/SEVSYNC_METRICS_PER_ACCOUNT/);
    expect(() => loadConfig({ SEVSYNC_METRICS_TOKEN: 'short' })).toThrow(
      /SEVSYNC_METRICS_TOKEN: must be at least 16/,
    );
    const config = loadConfig({ SEVSYNC_METRICS_PER_ACCOUNT: 'true', SEVSYNC_METRICS_TOKEN: 'y'.repeat(20) });
    expect(configEnv(config)).toMatchObject({
      SEVSYNC_METRICS_PER_ACCOUNT: '1',
      SEVSYNC_METRICS_TOKEN: 'y'.repeat(20),
    });
  });
});

describe('/metrics access', () => {
  const source: OpsSource = { state: () => 'RUNNING', databaseReachable: async () => true };
  const TOKEN = 'metrics-token-0123456789abcdef';
  let server: OpsServer | undefined;
  beforeEach(() => configureMetrics({ perAccount: false }));
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`http://127.0.0.1:${server!.port}${path}`, { headers });
    return { status: res.status, text: await res.text(), auth: res.headers.get('www-authenticate') };
  };

  it('with SEVSYNC_METRICS_TOKEN: only with Authorization: Bearer <token>', async () => {
    server = await startOpsServer(source, { port: 0, host: '127.0.0.1', metricsToken: TOKEN });
    const none = await get('/metrics');
    expect(none.status).toBe(401);
    expect(none.auth).toMatch(/^Bearer/);
    expect(none.text).not.toContain('sevsync_');
    expect((await get('/metrics', { authorization: `Bearer ${TOKEN}x` })).status).toBe(401);
    expect((await get('/metrics', { authorization: `Bearer ${TOKEN.slice(0, -1)}` })).status).toBe(401);
    expect((await get('/metrics', { authorization: `Basic ${TOKEN}` })).status).toBe(401);
    const ok = await get('/metrics', { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('# TYPE sevsync_syncs_total counter');
    // The probes never ask for it.
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/readyz')).status).toBe(200);
  });

  it('without a token: served on a loopback address, refused with what to set on others', async () => {
    server = await startOpsServer(source, { port: 0, host: '127.0.0.1' });
    expect((await get('/metrics')).status).toBe(200);
    await server.close();

    server = await startOpsServer(source, { port: 0, host: '0.0.0.0' });
    const refused = await get('/metrics');
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.text).error).toMatch(/SEVSYNC_METRICS_TOKEN/);
    expect(refused.text).not.toContain('sevsync_syncs_total');
    expect((await get('/healthz')).status).toBe(200);
    await server.close();

    // A token opens it on any address.
    server = await startOpsServer(source, { port: 0, host: '0.0.0.0', metricsToken: TOKEN });
    expect((await get('/metrics', { authorization: `bearer ${TOKEN}` })).status).toBe(200);
  });

  it('knows the loopback addresses', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1'])
      expect(isLoopback(a), a).toBe(true);
    for (const a of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', 'fe80::1'])
      expect(isLoopback(a), a).toBe(false);
  });
});
