import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import diagnostics from 'node:diagnostics_channel';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { startSandbox } from '../sandbox';
import type { Sandbox } from '../sandbox';
import type { LatencyProfile } from '../sandbox/server';

// Runs the sevDesk sandboxes of one bench phase in their own process, so that generating and serializing
// pages neither competes with the bench's own event loop nor hides in its CPU figures. Reads its plan as JSON
// from argv, answers with one JSON line on stdout, and serves until SIGTERM.
//
// With {"timeRequests":true} (second argument) it also times every API request its sandboxes answer, from
// node's own HTTP server events (diagnostics_channel: the request's arrival, the response's last byte handed
// to the socket), and answers `requests <id>` on stdin with one line {"requests":<id>,"entries":[...]}.

export interface SandboxSpec {
  seed: number;
  invoices: number;
  /** A sevDesk that takes its time (see SandboxOptions.latency); default none. */
  latency?: LatencyProfile;
}

export interface HostedSandbox {
  url: string;
  token: string;
  invoices: number;
  contacts: number;
}

/** One API request as the sandbox served it (wall clock of the host, ms). */
export interface RequestTiming {
  /** The sandbox's port (one per sandbox). */
  port: number;
  /** Path below /api/v1, e.g. /Invoice. */
  path: string;
  offset: number | null;
  limit: number | null;
  status: number;
  startMs: number;
  endMs: number;
}

/** Bounds the log of a long phase (the steady fleet's sandboxes do not time their requests anyway). */
const MAX_TIMINGS = 200_000;

function timeRequests(): () => RequestTiming[] {
  const open = new WeakMap<ServerResponse, { startMs: number; url: string; port: number }>();
  const done: RequestTiming[] = [];
  diagnostics.subscribe('http.server.request.start', (msg) => {
    const { request, response, server } = msg as {
      request: IncomingMessage;
      response: ServerResponse;
      server: Server;
    };
    const url = request.url ?? '';
    if (!url.startsWith('/api/v1/')) return;
    open.set(response, { startMs: Date.now(), url, port: (server.address() as AddressInfo).port });
  });
  diagnostics.subscribe('http.server.response.finish', (msg) => {
    const { response } = msg as { response: ServerResponse };
    const o = open.get(response);
    if (!o || done.length >= MAX_TIMINGS) return;
    const u = new URL(o.url, 'http://sandbox');
    const num = (k: string) => (u.searchParams.has(k) ? Number(u.searchParams.get(k)) : null);
    done.push({
      port: o.port,
      path: u.pathname.slice('/api/v1'.length),
      offset: num('offset'),
      limit: num('limit'),
      status: response.statusCode,
      startMs: o.startMs,
      endMs: Date.now(),
    });
  });
  return () => done;
}

async function main(): Promise<void> {
  const specs = JSON.parse(process.argv[2] ?? '[]') as SandboxSpec[];
  const opts = JSON.parse(process.argv[3] ?? '{}') as { timeRequests?: boolean };
  const timings = opts.timeRequests ? timeRequests() : () => [];
  const sandboxes: Sandbox[] = [];
  for (const s of specs)
    sandboxes.push(
      await startSandbox({
        seed: s.seed,
        data: { invoices: s.invoices },
        ...(s.latency ? { latency: s.latency } : {}),
      }),
    );
  const ready: HostedSandbox[] = sandboxes.map((sb) => ({
    url: sb.url,
    token: sb.token,
    invoices: sb.store.invoiceCount(),
    contacts: sb.store.contactCount(),
  }));
  process.stdout.write(`${JSON.stringify({ ready })}\n`);
  createInterface({ input: process.stdin }).on('line', (line) => {
    const m = /^requests (\d+)$/.exec(line.trim());
    if (m) process.stdout.write(`${JSON.stringify({ requests: Number(m[1]), entries: timings() })}\n`);
  });
  process.once('SIGTERM', () => {
    void Promise.all(sandboxes.map((sb) => sb.close())).finally(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
