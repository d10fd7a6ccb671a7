// The worker's small HTTP server for its operators: health, readiness and Prometheus metrics.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { State } from '@temporalio/worker';
import { statementsSent } from '../db/client';
import { renderMetrics } from '../metrics';

export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

/** What the ops server reports on: a running worker's handle, or a WorkerStartup while it starts. */
export interface OpsSource {
  state(): State;
  /** undefined: there is no database pool yet (the worker is starting). */
  databaseReachable(): Promise<boolean | undefined>;
  /** What keeps the worker from being ready whatever its state (its namespace); undefined: nothing. */
  notReadyReason?(): string | undefined;
}

/**
 * /healthz (liveness: the process answers and the worker has not failed), /readyz (the namespace has the
 * search attributes, the worker polls and the database answers; else 503 with a `reason`) and /metrics
 * (sevsync's counters, then the SDK's own when `sdkMetricsUrl` is set).
 */
export async function startOpsServer(
  handle: OpsSource,
  opts: { port: number; host: string; sdkMetricsUrl?: string; countStatements?: boolean },
): Promise<OpsServer> {
  const server = http.createServer((req, res) => {
    const send = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    const path = (req.url ?? '/').split('?')[0];
    void (async () => {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, '{"error":"method not allowed"}');
      if (path === '/healthz') {
        const state = handle.state();
        const alive = state !== 'FAILED' && state !== 'STOPPED';
        return send(alive ? 200 : 503, JSON.stringify({ status: alive ? 'ok' : 'down', worker: state }));
      }
      if (path === '/readyz') {
        const blocked = handle.notReadyReason?.();
        const state = handle.state();
        const database = await handle.databaseReachable();
        const ready = blocked === undefined && state === 'RUNNING' && database === true;
        const reason = ready
          ? undefined
          : (blocked ??
            (state === 'INITIALIZED' || database === undefined
              ? 'the worker is starting'
              : state !== 'RUNNING'
                ? `the worker is not polling (${state})`
                : 'the database does not answer'));
        return send(ready ? 200 : 503, JSON.stringify({ ready, worker: state, database, reason }));
      }
      if (path === '/metrics') {
        let text = await renderMetrics();
        if (opts.countStatements)
          text +=
            '# HELP sevsync_db_statements_total SQL statements the worker sent to PostgreSQL\n' +
            `# TYPE sevsync_db_statements_total counter\nsevsync_db_statements_total ${statementsSent()}\n`;
        if (opts.sdkMetricsUrl) text += await fetchText(opts.sdkMetricsUrl);
        return send(200, text, 'text/plain; version=0.0.4; charset=utf-8');
      }
      send(404, '{"error":"not found"}');
    })().catch((err: unknown) => send(500, JSON.stringify({ error: String(err) })));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function fetchText(url: string): Promise<string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return res.ok ? `\n${await res.text()}` : '';
  } catch {
    // The SDK exporter starts with the first worker; until then there is nothing to add.
    return '';
  }
}
