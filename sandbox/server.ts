import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorResponse, objectCount, routeApi, type ApiResponse } from './api-routes';
import { routeControl } from './control-routes';
import { SandboxError, errorEnvelope } from './errors';
import {
  FaultInjector,
  HTML_500,
  POST_RESPONSE_FAULTS,
  corruptPage,
  distortPage,
  gatewayPage,
  poisonPage,
  type FaultSpec,
} from './faults';
import { RequestLog, type RequestLogEntry } from './request-log';
import { SandboxStore, type GenerateOptions } from './store';

export interface SandboxOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 = a free port. */
  port?: number;
  /** Default: 32 random lowercase hex characters, like a sevDesk API token. */
  token?: string;
  /** Default 1. */
  seed?: number;
  /** What to generate; default ~40 contacts and ~120 invoices. */
  data?: GenerateOptions;
  /** Clock for the create/update stamps of mutations; default the real clock. */
  now?: () => Date;
  /** The sevDesk company (SevClient id) of all its data; default 1234567. */
  sevClientId?: string;
  /**
   * A sevDesk that takes its time: every API answer waits `requestMs` plus `perObjectMs` per object in its
   * `objects` (a timer: concurrent requests overlap like on a real server). Default off (no delay).
   */
  latency?: LatencyProfile;
}

/** Delay of one API answer: requestMs + perObjectMs x objects in the answer. */
export interface LatencyProfile {
  requestMs?: number;
  perObjectMs?: number;
}

/** The delay of an answer with `objects` objects under `profile`, ms (0 without a profile). */
export function latencyMs(profile: LatencyProfile | undefined, objects: number): number {
  if (!profile) return 0;
  return Math.max(0, (profile.requestMs ?? 0) + (profile.perObjectMs ?? 0) * objects);
}

export interface Sandbox {
  /** Base URL ending in /api/v1. */
  url: string;
  token: string;
  store: SandboxStore;
  faults: FaultInjector;
  requests: RequestLog;
  /** The old token stops working (401). */
  setToken(token: string): void;
  close(): Promise<void>;
}

const API_PREFIX = '/api/v1';
const CONTROL_PREFIX = '/__sandbox';
const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

function send(res: ServerResponse, entry: RequestLogEntry | undefined, { status, body }: ApiResponse): void {
  const bytes = Buffer.from(JSON.stringify(body));
  if (entry) entry.status = status;
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': bytes.length });
  res.end(bytes);
}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', reject);
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8').trim();
      if (raw === '') return resolve(undefined);
      try {
        resolve(JSON.parse(raw));
      } catch {
        reject(new SandboxError({ status: 400, code: null, message: 'Body is not valid JSON' }));
      }
    });
  });
}

function queryRecord(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of params) out[k] = v;
  return out;
}

/** Starts the sevDesk simulator on a local port. */
export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const store = new SandboxStore({
    seed: opts.seed,
    data: opts.data,
    now: opts.now,
    ...(opts.sevClientId ? { sevClientId: opts.sevClientId } : {}),
  });
  const faults = new FaultInjector();
  const requests = new RequestLog();
  let token = opts.token ?? randomBytes(16).toString('hex');
  const hanging = new Set<ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();
  let closing = false;

  const setToken = (next: string): void => {
    if (!next) throw new Error('token must not be empty');
    token = next;
  };

  const delay = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const apiPath = url.pathname.slice(API_PREFIX.length) || '/';
    const method = req.method ?? 'GET';
    const entry = requests.record({
      method,
      path: url.pathname,
      query: queryRecord(url.searchParams),
      at: Date.now(),
    });
    // Drain any request body: the API endpoints used here take none.
    req.resume();

    const fault: FaultSpec | undefined = faults.match(apiPath);
    if (fault && !POST_RESPONSE_FAULTS.has(fault.kind)) {
      faults.consume(fault);
      switch (fault.kind) {
        case 'rate-limit': {
          // [GUESS] nobody has seen a sevDesk 429 (docs/sevdesk.md, "Rate limits"): body and header are invented.
          const body = JSON.stringify(
            errorEnvelope({ status: 429, code: null, message: 'Too Many Requests' }),
          );
          entry.status = 429;
          res.writeHead(429, {
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(body),
            ...(fault.retryAfterSeconds === undefined
              ? {}
              : { 'Retry-After': String(fault.retryAfterSeconds) }),
          });
          res.end(body);
          return;
        }
        case 'gateway-401':
        case 'gateway-403': {
          const status = fault.kind === 'gateway-401' ? 401 : 403;
          const page = gatewayPage(status);
          entry.status = status;
          res.writeHead(status, { 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(page) });
          res.end(page);
          return;
        }
        case 'server-error-html':
          // [GUESS] a gateway's HTML error page (docs/sevdesk.md, "Errors" warns of non-JSON 5xx bodies).
          entry.status = 500;
          res.writeHead(500, { 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(HTML_500) });
          res.end(HTML_500);
          return;
        case 'hang':
          // [GUESS] never answers; the socket stays open until close().
          hanging.add(res);
          res.on('close', () => hanging.delete(res));
          return;
        case 'invalid-token':
          send(
            res,
            entry,
            errorResponse(new SandboxError({ status: 401, code: null, message: 'Authentication required' })),
          );
          return;
        case 'error-200':
          // Errors with HTTP 200 are measured (docs/sevdesk.md, "Errors"); this message is [GUESS].
          send(res, entry, {
            status: 200,
            body: errorEnvelope({
              status: 200,
              code: 390,
              message: 'Simulated error delivered with HTTP 200',
            }),
          });
          return;
        case 'slow':
          // [GUESS] a slow answer: the normal response after the delay.
          await delay(fault.delayMs ?? 2000);
          if (closing || res.destroyed) return;
          break;
        default:
          break;
      }
    }

    let response: ApiResponse;
    // Header auth only: the raw token, no "Bearer", no ?token= (docs/sevdesk.md, "Access").
    if (req.headers.authorization !== token) {
      // [GUESS] the exact body of a 401 (docs/sevdesk.md, "Access").
      response = errorResponse(
        new SandboxError({ status: 401, code: null, message: 'Authentication required' }),
      );
    } else {
      try {
        response = routeApi({ store, method, apiPath, params: url.searchParams });
      } catch (err) {
        if (!(err instanceof SandboxError)) throw err;
        response = errorResponse(err);
      }
    }

    const wait = latencyMs(opts.latency, objectCount(response.body));
    if (wait > 0) {
      // Not a busy wait: other requests are served meanwhile, as by a server with many workers.
      await delay(wait);
      if (closing || res.destroyed) return;
    }

    const distortion =
      fault?.kind === 'empty-page' || fault?.kind === 'short-page' || fault?.kind === 'duplicate-rows'
        ? fault.kind
        : null;
    if (distortion && fault && response.status < 300 && distortPage(response.body, distortion)) {
      faults.consume(fault);
    } else if (fault?.kind === 'poison' && response.status < 300 && poisonPage(response.body, fault.field)) {
      // [GUESS] one record with a value the schema takes and a database may refuse.
      faults.consume(fault);
    } else if (
      fault?.kind === 'malformed' &&
      response.status < 300 &&
      corruptPage(response.body, fault.field)
    ) {
      // [GUESS] one corrupted object in an otherwise valid page.
      faults.consume(fault);
    } else if (fault?.kind === 'truncated') {
      // [GUESS] a connection that dies mid-body: a correct Content-Length, half the bytes, then a reset.
      faults.consume(fault);
      const full = Buffer.from(JSON.stringify(response.body));
      entry.status = response.status;
      res.writeHead(response.status, { 'Content-Type': 'application/json', 'Content-Length': full.length });
      res.write(full.subarray(0, Math.max(1, Math.floor(full.length / 2))), () => res.socket?.destroy());
      return;
    }
    send(res, entry, response);
  }

  async function handleControl(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (!LOOPBACK.has(req.socket.remoteAddress ?? '')) {
      send(
        res,
        undefined,
        errorResponse(new SandboxError({ status: 403, code: null, message: 'loopback only' })),
      );
      return;
    }
    try {
      const body = await readBody(req);
      const result = routeControl({
        deps: { store, faults, requests, setToken },
        method: req.method ?? 'GET',
        path: url.pathname.slice(CONTROL_PREFIX.length),
        query: url.searchParams,
        body,
      });
      send(res, undefined, result);
    } catch (err) {
      if (!(err instanceof SandboxError)) throw err;
      send(res, undefined, errorResponse(err));
    }
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const handler =
      url.pathname === API_PREFIX || url.pathname.startsWith(`${API_PREFIX}/`)
        ? handleApi
        : url.pathname.startsWith(`${CONTROL_PREFIX}/`)
          ? handleControl
          : undefined;
    if (!handler) {
      req.resume();
      send(
        res,
        undefined,
        errorResponse(new SandboxError({ status: 404, code: null, message: 'Not found' })),
      );
      return;
    }
    handler(req, res, url).catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      if (!res.headersSent) {
        send(res, undefined, {
          status: 500,
          body: errorEnvelope({ status: 500, code: null, message: `sandbox bug: ${message}` }),
        });
      } else {
        res.destroy();
      }
    });
  });

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}${API_PREFIX}`,
    get token() {
      return token;
    },
    store,
    faults,
    requests,
    setToken,
    close: async () => {
      closing = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const res of hanging) res.socket?.destroy();
      hanging.clear();
      await new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
