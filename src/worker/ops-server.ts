// The worker's small HTTP server for its operators: health, readiness and Prometheus metrics.
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
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

/** Whether an address the server listens on is reachable from this machine only. */
export function isLoopback(address: string): boolean {
  const a = address.replace(/^::ffff:/i, '');
  if (isIP(a) === 4) return a.startsWith('127.');
  return a === '::1';
}

/** Equal tokens, compared in constant time (hashes of the same length, whatever the lengths given). */
function sameToken(given: string, expected: string): boolean {
  const digest = (v: string) => createHash('sha256').update(v).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

const UNAUTHORIZED = JSON.stringify({
  error: '/metrics needs Authorization: Bearer <SEVSYNC_METRICS_TOKEN>',
});

/** The token an Authorization header carries (`Bearer <token>`), if any. */
function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  return m?.[1];
}

/**
 * /healthz (liveness: the process answers and the worker has not failed), /readyz (the namespace has the
 * search attributes, the worker polls and the database answers; else 503 with a `reason`) and /metrics
 * (sevsync's counters, then the SDK's own when `sdkMetricsUrl` is set).
 *
 * /metrics is guarded: with a `metricsToken` (SEVSYNC_METRICS_TOKEN when not given) it asks for
 * `Authorization: Bearer <token>` (401 otherwise); without one it is served only while the server listens on
 * a loopback address (SEVSYNC_WORKER_HTTP_HOST, 127.0.0.1 by default), and answers 403 with what to set
 * when it listens on others. The probes stay open: a kubelet or compose health check sends no token.
 */
export async function startOpsServer(
  handle: OpsSource,
  opts: {
    port: number;
    host: string;
    sdkMetricsUrl?: string;
    countStatements?: boolean;
    metricsToken?: string;
  },
): Promise<OpsServer> {
  const token = opts.metricsToken ?? (process.env['SEVSYNC_METRICS_TOKEN'] || undefined);
  let loopback = false;
  const server = http.createServer((req, res) => {
    const send = (status: number, body: string, type = 'application/json', headers = {}) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
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
        if (token !== undefined) {
          const given = bearerToken(req.headers.authorization);
          if (given === undefined || !sameToken(given, token))
            return send(401, UNAUTHORIZED, undefined, {
              'www-authenticate': 'Bearer realm="sevsync-metrics"',
            });
        } else if (!loopback)
          return send(
            403,
            JSON.stringify({
              error:
                `/metrics is not served on ${opts.host} without a token: set SEVSYNC_METRICS_TOKEN ` +
                'and scrape with Authorization: Bearer <token>, or listen on 127.0.0.1 ' +
                '(SEVSYNC_WORKER_HTTP_HOST)',
            }),
          );
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
  loopback = isLoopback(address.address);
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
