import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SEVDESK_FIXTURES_DIR, sevdeskFixture } from '../../fixtures';

// A tiny scripted HTTP server: each request takes the next handler from the script, then the fallback.
// Real sockets, so timeouts, resets and truncated bodies behave as they do against sevDesk.

// The fixtures live in the repository: test/fixtures/sevdesk (README.md there says where from).
export const FIXTURES_DIR = SEVDESK_FIXTURES_DIR;
export const fixture = sevdeskFixture;

/** Fixture objects as plain records, for building replies. */
export function fixtureObjects(name: string): Record<string, unknown>[] {
  const body = fixture(name) as { objects: Record<string, unknown>[] };
  return body.objects;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  rawUrl: string;
  headers: http.IncomingHttpHeaders;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>;

export interface TestServer {
  /** Base URL ending in /api/v1. */
  url: string;
  requests: RecordedRequest[];
  readonly maxInFlight: number;
  /** Queue handlers for the next requests, in order. */
  script(...handlers: Handler[]): void;
  /** Handler for requests once the script is used up. */
  fallback(handler: Handler): void;
  /** Resolves once `n` requests have arrived (in flight or answered): wait for this, not for a fixed time. */
  received(n: number): Promise<void>;
  close(): Promise<void>;
}

export async function startTestServer(): Promise<TestServer> {
  const queue: Handler[] = [];
  let fallback: Handler = json(200, { objects: [] });
  const requests: RecordedRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const waiters: { n: number; resolve: () => void }[] = [];

  const server = http.createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on('close', () => inFlight--);
    const u = new URL(req.url ?? '/', 'http://localhost');
    requests.push({
      method: req.method ?? '',
      path: u.pathname,
      query: u.searchParams,
      rawUrl: req.url ?? '',
      headers: req.headers,
    });
    for (const w of waiters.filter((x) => requests.length >= x.n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
    const handler = queue.shift() ?? fallback;
    Promise.resolve(handler(req, res)).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/api/v1`,
    requests,
    get maxInFlight() {
      return maxInFlight;
    },
    script(...handlers) {
      queue.push(...handlers);
    },
    fallback(handler) {
      fallback = handler;
    },
    received(n) {
      if (requests.length >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  };
}

export function text(status: number, body: string, contentType = 'text/html'): Handler {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
}

export function delayed(ms: number, then: Handler): Handler {
  return async (req, res) => {
    await new Promise((r) => setTimeout(r, ms));
    if (!res.destroyed) await then(req, res);
  };
}

/** Headers at once, body after `ms`: a slow body, not slow headers. */
export function slowBody(ms: number, body: unknown): Handler {
  return (_req, res) => {
    const t = JSON.stringify(body);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(t) });
    res.write(t.slice(0, 5));
    setTimeout(() => {
      if (!res.destroyed) res.end(t.slice(5));
    }, ms);
  };
}

/** Never answers; the client's timeout must end it. */
export const hang: Handler = () => undefined;

/** Announces the full length, sends half, then kills the socket. */
export function truncated(body: unknown): Handler {
  return (_req, res) => {
    const t = JSON.stringify(body);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(t) });
    res.write(t.slice(0, Math.floor(t.length / 2)), () => res.socket?.destroy());
  };
}

/** Chunked encoding cut off before the terminating chunk. */
export function truncatedChunked(body: unknown): Handler {
  return (_req, res) => {
    const t = JSON.stringify(body);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(t.slice(0, Math.floor(t.length / 2)), () => res.socket?.destroy());
  };
}

/** Drops the connection without any response. */
export const reset: Handler = (req) => {
  req.socket.destroy();
};
