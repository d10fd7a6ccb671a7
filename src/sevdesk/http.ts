// The sevDesk HTTP transport: one GET, bounded in time, size and concurrency, mapped to typed errors.
//
// One retry layer: Temporal retries activities (with backoff, and `nextRetryDelay` from Retry-After), so this
// module does not loop. The only wait it does itself is one short in-call wait for a 429 whose Retry-After is
// at most `rateLimitWaitMs` (default 5 s); any other failure is thrown at once as a typed error.
import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import pLimit, { type LimitFunction } from 'p-limit';
import { Pool, request, type Dispatcher } from 'undici';
import {
  SevdeskBadRequestError,
  SevdeskError,
  SevdeskInvalidTokenError,
  SevdeskNetworkError,
  SevdeskNotFoundError,
  SevdeskRateLimitedError,
  SevdeskResponseTooLargeError,
  SevdeskServerError,
  type NetworkErrorKind,
  type SevdeskErrorCode,
} from './errors';
import { ErrorEnvelope } from './schema';

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_CONCURRENCY = 4;
/** Longest Retry-After waited out inside a call; longer ones go back to Temporal as nextRetryDelay. */
export const DEFAULT_RATE_LIMIT_WAIT_MS = 5_000;
/** A page of 1000 invoices is a few MB; anything far beyond that is not a sevDesk reply we can use. */
export const DEFAULT_MAX_RESPONSE_BYTES = 50 * 1024 * 1024;
const SNIPPET_LENGTH = 200;

/** What one request did, for metrics (never the URL's query or the token). */
export interface RequestEvent {
  /** HTTP status, or null when no reply arrived. */
  status: number | null;
  rateLimited: boolean;
  durationMs: number;
}

export interface TransportOptions {
  /** e.g. https://my.sevdesk.de/api/v1 */
  baseUrl: string;
  token: string;
  /** Default: one shared undici Pool per origin (closed by closeDefaultDispatchers). */
  dispatcher?: Dispatcher;
  /** Per request, headers and body together. Default 30 000. */
  timeoutMs?: number;
  /** Requests in flight per token and base URL, shared by all clients with both. Default 4. */
  maxConcurrency?: number;
  /** A limit shared by all clients of the process (createWorkerLimit): the worker's global budget. */
  workerLimit?: LimitFunction;
  /** Replies larger than this fail with SevdeskResponseTooLargeError. Default 50 MB. */
  maxResponseBytes?: number;
  /** Longest Retry-After (ms) waited out within a call; a longer one is thrown. Default 5000; 0: never. */
  rateLimitWaitMs?: number;
  /** 1: never wait in-call, not even for a short Retry-After. Default 2 (one short 429 wait). */
  maxRequestsPerCall?: number;
  userAgent: string;
  /** Injectable for tests: the in-call wait for a short Retry-After. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Aborts in-flight requests and waits (an activity passes its cancellation signal). */
  signal?: AbortSignal;
  /** Called after every HTTP request (metrics). */
  onRequest?: (e: RequestEvent) => void;
}

export interface Transport {
  /** GET base+path; the decoded JSON body, or a typed SevdeskError. */
  get(path: string, params?: URLSearchParams): Promise<{ body: unknown; url: string }>;
  /** HTTP requests actually sent. */
  sent(): number;
}

// Module-level caches: connections are per origin, the concurrency budget is per sevDesk token.
const pools = new Map<string, Pool>();
const tokenLimits = new Map<string, LimitFunction>();

function defaultDispatcher(origin: string): Dispatcher {
  let pool = pools.get(origin);
  if (!pool) {
    pool = new Pool(origin, { connections: 64 });
    pools.set(origin, pool);
  }
  return pool;
}

/** Closes the shared default pools (worker shutdown, tests); later clients open new ones. */
export async function closeDefaultDispatchers(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.close()));
}

/** A limit on concurrent sevDesk requests for a whole process, shared by all accounts. */
export function createWorkerLimit(concurrency: number): LimitFunction {
  return pLimit(positiveInt('workerConcurrency', concurrency, 1));
}

function tokenLimit(baseKey: string, token: string, limit: number): LimitFunction {
  // Hashed so the module cache does not hold the token in clear; the first client sets the limit.
  const key = createHash('sha256').update(`${baseKey}\n${token}`).digest('hex');
  let l = tokenLimits.get(key);
  if (!l) {
    l = pLimit(limit);
    tokenLimits.set(key, l);
  }
  return l;
}

export function positiveInt(name: string, v: number | undefined, fallback: number, min = 1): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${v}`);
  return v;
}

/** Retry-After as delta-seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now: number = Date.now(),
): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  const v = raw.trim();
  if (v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.ceil(Number(v) * 1000);
  // Only an IMF-fixdate-like value: Date.parse would read "-5" as a year.
  if (!/^[A-Za-z]{3},? /.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The base URL without credentials, query or fragment (they would end up in error messages). */
export function normaliseBase(baseUrl: string): { origin: string; basePath: string; baseKey: string } {
  const base = new URL(baseUrl);
  if (base.protocol !== 'https:' && base.protocol !== 'http:') {
    throw new RangeError(`baseUrl must be http(s), got ${base.protocol}`);
  }
  const basePath = base.pathname.replace(/\/+$/, '');
  return { origin: base.origin, basePath, baseKey: `${base.origin}${basePath}` };
}

/** Removes the token from anything derived from a response before it can reach a message. */
export function redactor(token: string): (s: string) => string {
  return (s) => (token.length >= 4 ? s.split(token).join('[redacted]') : s);
}

/** The reason an aborted signal carries (Temporal's CancelledFailure for an activity), as an Error. */
function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : new DOMException('the sevDesk request was cancelled', 'AbortError');
}

export function createTransport(opts: TransportOptions): Transport {
  const { origin, basePath } = normaliseBase(opts.baseUrl);
  const token = opts.token;
  if (!token) throw new RangeError('token is required');
  const redact = redactor(token);
  const dispatcher = opts.dispatcher ?? defaultDispatcher(origin);
  const timeoutMs = positiveInt('timeoutMs', opts.timeoutMs, DEFAULT_TIMEOUT_MS);
  const maxBytes = positiveInt('maxResponseBytes', opts.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES);
  const waitLimitMs = positiveInt('rateLimitWaitMs', opts.rateLimitWaitMs, DEFAULT_RATE_LIMIT_WAIT_MS, 0);
  const maxRequests = Math.min(2, positiveInt('retry.attempts', opts.maxRequestsPerCall, 2));
  const perToken = tokenLimit(
    `${origin}${basePath}`,
    token,
    positiveInt('maxConcurrency', opts.maxConcurrency, DEFAULT_MAX_CONCURRENCY),
  );
  const workerLimit = opts.workerLimit;
  const sleep = opts.sleep ?? ((ms: number, signal?: AbortSignal) => delay(ms, undefined, { signal }));
  const signal = opts.signal;
  const headers = {
    authorization: token,
    accept: 'application/json',
    'user-agent': opts.userAgent,
  };
  let sent = 0;

  function buildUrl(path: string, params?: URLSearchParams): URL {
    const url = new URL(origin);
    url.pathname = `${basePath}${path}`;
    if (params && [...params.keys()].length > 0) url.search = params.toString();
    return url;
  }

  /** Token slot first, then the worker slot: waiting for one token never holds a slot other accounts need. */
  const limited = <T>(fn: () => Promise<T>): Promise<T> =>
    perToken(() => (workerLimit ? workerLimit(fn) : fn()));

  async function once(url: URL): Promise<unknown> {
    if (signal?.aborted) throw abortReason(signal);
    const shownUrl = url.toString();
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const started = performance.now();
    let status: number | null = null;
    const ctx = { url: shownUrl, timeoutMs, redact };
    try {
      let res: Dispatcher.ResponseData;
      try {
        sent++;
        res = await request(url, {
          method: 'GET',
          headers,
          dispatcher,
          signal: signal ? AbortSignal.any([controller.signal, signal]) : controller.signal,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
      } catch (e) {
        if (signal?.aborted) throw abortReason(signal);
        throw networkError(e, timedOut ? 'timeout' : 'connection', ctx);
      }
      status = res.statusCode;
      let text: string;
      try {
        text = await readCapped(res, maxBytes, shownUrl);
      } catch (e) {
        if (signal?.aborted) throw abortReason(signal);
        throw networkError(e, timedOut ? 'timeout' : 'truncated', ctx);
      }
      return interpret(res.statusCode, res.headers, text, ctx);
    } finally {
      clearTimeout(timer);
      opts.onRequest?.({ status, rateLimited: status === 429, durationMs: performance.now() - started });
    }
  }

  return {
    async get(path, params) {
      const url = buildUrl(path, params);
      for (let n = 1; ; n++) {
        try {
          return { body: await limited(() => once(url)), url: url.toString() };
        } catch (e) {
          const short =
            e instanceof SevdeskRateLimitedError &&
            e.retryAfterMs !== undefined &&
            e.retryAfterMs <= waitLimitMs;
          if (!short || n >= maxRequests) throw e;
          // Outside the limiter: a waiting call holds no slot.
          try {
            await sleep(e.retryAfterMs!, signal);
          } catch (err) {
            if (signal?.aborted) throw abortReason(signal);
            throw err;
          }
        }
      }
    },
    sent: () => sent,
  };
}

/** The body as text, at most `max` bytes (by Content-Length up front, else while streaming). */
async function readCapped(res: Dispatcher.ResponseData, max: number, url: string): Promise<string> {
  const declared = Number(res.headers['content-length']);
  const tooLarge = (seen: string) => {
    // Destroying the body makes undici emit "Request aborted" on it: expected here, not unhandled.
    res.body.on('error', () => {});
    res.body.destroy();
    return new SevdeskResponseTooLargeError(
      `sevDesk reply is larger than the ${max}-byte limit (${seen}) (GET ${url})`,
      { status: res.statusCode, url, limitBytes: max },
    );
  };
  if (Number.isFinite(declared) && declared > max) throw tooLarge(`Content-Length ${declared}`);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body) {
    const b = chunk as Buffer;
    total += b.length;
    if (total > max) throw tooLarge(`${total} bytes read so far`);
    chunks.push(b);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}

interface ErrorContext {
  url: string;
  timeoutMs: number;
  redact: (s: string) => string;
}

function networkError(e: unknown, phase: NetworkErrorKind, ctx: ErrorContext): SevdeskError {
  if (e instanceof SevdeskError) return e;
  const code = errorCode(e);
  if (code === 'UND_ERR_INVALID_ARG') {
    // A programming error (bad header/option), not the network: never worth a retry.
    return new SevdeskBadRequestError(
      `invalid request to sevDesk: ${ctx.redact(errorMessage(e))} (GET ${ctx.url})`,
      { url: ctx.url },
    );
  }
  const kind: NetworkErrorKind =
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
      ? 'timeout'
      : phase;
  const what =
    kind === 'timeout'
      ? `timed out after ${ctx.timeoutMs} ms`
      : kind === 'truncated'
        ? 'response body cut short'
        : 'connection failed';
  const detail = ctx.redact(errorMessage(e));
  return new SevdeskNetworkError(
    `sevDesk request ${what}${code ? ` (${code})` : ''}${detail ? `: ${detail}` : ''} (GET ${ctx.url})`,
    { url: ctx.url, kind, causeCode: code },
  );
}

/** Status and body to a value or a typed error. Errors can arrive with HTTP 200: the body decides too. */
function interpret(
  status: number,
  resHeaders: Dispatcher.ResponseData['headers'],
  text: string,
  ctx: ErrorContext,
): unknown {
  const { url, redact } = ctx;
  const json = parseJson(text);
  const envelope = json.ok ? ErrorEnvelope.safeParse(json.value) : undefined;
  const apiError = envelope?.success ? envelope.data.error : undefined;
  const code: SevdeskErrorCode = apiError?.code ?? null;
  const apiMessage = apiError?.message ? redact(apiError.message) : undefined;
  const describe = (label: string) =>
    `sevDesk ${label} (HTTP ${status}${code !== null ? `, code ${code}` : ''})${apiMessage ? `: ${apiMessage}` : ''} (GET ${url})`;

  if ((status === 401 || status === 403) && apiError) {
    throw new SevdeskInvalidTokenError(describe('rejected the API token'), { status, url });
  }
  if (status === 401 || status === 403) {
    // Not sevDesk's own error body (an HTML page from a proxy or gateway): passing, never a verdict on the
    // token. Retried like a server error; only sevDesk's JSON 401 blocks the account.
    const bodySnippet = snippet(redact(text));
    throw new SevdeskServerError(describe(`gateway refused the request: ${bodySnippet || '(empty body)'}`), {
      status,
      url,
      bodySnippet,
    });
  }
  if (status === 404 || String(code) === '151') {
    throw new SevdeskNotFoundError(describe('object not found'), { status, url, code });
  }
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(resHeaders['retry-after']);
    throw new SevdeskRateLimitedError(
      `${describe('rate limit hit')}${retryAfterMs !== undefined ? `; retry after ${retryAfterMs} ms` : ''}`,
      { status, url, retryAfterMs },
    );
  }
  if (status >= 500) {
    const bodySnippet = snippet(redact(text));
    const label = apiMessage ? 'server error' : `server error: ${bodySnippet || '(empty body)'}`;
    throw new SevdeskServerError(describe(label), { status, url, bodySnippet });
  }
  if (status < 200 || status >= 300) {
    throw new SevdeskBadRequestError(describe('rejected the request'), { status, url, code });
  }
  if (!json.ok) {
    const message = `sevDesk reply is not valid JSON (HTTP ${status}, ${text.length} bytes) (GET ${url})`;
    throw new SevdeskNetworkError(message, { status, url, kind: 'invalid-json' });
  }
  if (apiError) {
    throw new SevdeskBadRequestError(describe('returned an error'), { status, url, code });
  }
  return json.value;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function snippet(text: string): string {
  const flat = text
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > SNIPPET_LENGTH ? `${flat.slice(0, SNIPPET_LENGTH)}…` : flat;
}

function errorCode(e: unknown): string | null {
  if (typeof e !== 'object' || e === null) return null;
  const r = e as Record<string, unknown>;
  if (typeof r['code'] === 'string') return r['code'];
  // undici wraps socket errors; the OS code (ECONNRESET, ECONNREFUSED) sits on the cause.
  const cause = r['cause'];
  if (typeof cause !== 'object' || cause === null) return null;
  const c = (cause as Record<string, unknown>)['code'];
  return typeof c === 'string' ? c : null;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : typeof e === 'string' ? e : '';
}
