import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { Pool, request, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { version } from '../../package.json';
import {
  SevdeskBadRequestError,
  SevdeskError,
  SevdeskInvalidTokenError,
  SevdeskNetworkError,
  SevdeskNotFoundError,
  SevdeskRateLimitedError,
  SevdeskSchemaError,
  SevdeskServerError,
  type NetworkErrorKind,
  type SchemaIssue,
  type SevdeskErrorCode,
} from './errors';
import { MAX_PAGE_LIMIT, walkPages, type InvalidObject, type Page } from './paging';
import {
  CommunicationWay,
  Contact,
  ContactAddress,
  ErrorEnvelope,
  Invoice,
  ListEnvelope,
  SevdeskId,
  StaticCountry,
} from './schema';

export { dedupeById, walkPages, type InvalidObject, type Page } from './paging';

export const DEFAULT_USER_AGENT = `sevsync/${version} (+https://onecockpit.example/sevsync)`;

export interface SevdeskRetryOptions {
  /** Total attempts including the first; 1 disables retries. */
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export interface SevdeskClientOptions {
  /** e.g. https://my.sevdesk.de/api/v1 */
  baseUrl: string;
  token: string;
  /** Default: one shared undici Pool per origin. */
  dispatcher?: Dispatcher;
  /** Per attempt, headers and body together. Default 30 000. */
  timeoutMs?: number;
  /** Requests in flight per token and base URL, shared by all clients with both. Default 4. */
  maxConcurrency?: number;
  /** Default 3 attempts, 250 ms base, 10 s max; exponential with full jitter; honours Retry-After. */
  retry?: SevdeskRetryOptions;
  userAgent?: string;
  /** Injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
  /** Injectable jitter source for tests; returns [0, 1). */
  random?: () => number;
}

export interface InvoiceQuery {
  limit?: number;
  offset?: number;
  countAll?: boolean;
  /** Unix seconds. */
  updateAfter?: number;
  status?: string;
  originId?: string;
  contactId?: string;
  invoiceType?: string;
}

export interface ContactQuery {
  limit?: number;
  offset?: number;
  countAll?: boolean;
  /** Unix seconds. */
  updateAfter?: number;
}

export interface CommunicationWayQuery {
  contactId?: string;
  type?: string;
  limit?: number;
  offset?: number;
}

export interface ContactAddressQuery {
  contactId?: string;
  limit?: number;
  offset?: number;
}

export interface SevdeskClient {
  /** One cheap authenticated call; throws SevdeskInvalidTokenError on 401/403. */
  checkToken(): Promise<void>;
  listInvoices(q?: InvoiceQuery): Promise<Page<Invoice>>;
  getInvoice(id: string): Promise<Invoice>;
  /** Always sends depth=1: without it sevDesk returns organisations only. */
  listContacts(q?: ContactQuery): Promise<Page<Contact>>;
  getContact(id: string): Promise<Contact>;
  listCommunicationWays(q?: CommunicationWayQuery): Promise<Page<CommunicationWay>>;
  listContactAddresses(q?: ContactAddressQuery): Promise<Page<ContactAddress>>;
  /** Cached per client; objects failing the schema are left out. */
  listStaticCountries(): Promise<StaticCountry[]>;
  /** HTTP requests actually sent by this client, retries included. */
  requestCount(): number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_CONCURRENCY = 4;
const DEFAULT_RETRY = { attempts: 3, baseDelayMs: 250, maxDelayMs: 10_000 };
/** Guards against a caller passing Date.now() where sevDesk expects seconds (year 2286 in seconds). */
const MAX_UNIX_SECONDS = 10_000_000_000;
const SNIPPET_LENGTH = 200;

// Module-level caches: connections are per origin, the concurrency budget is per sevDesk token.
const pools = new Map<string, Pool>();
const semaphores = new Map<string, Semaphore>();

function defaultDispatcher(origin: string): Dispatcher {
  let pool = pools.get(origin);
  if (!pool) {
    pool = new Pool(origin, { connections: 64 });
    pools.set(origin, pool);
  }
  return pool;
}

/** Closes the shared default pools (for process shutdown and tests); later clients open new ones. */
export async function closeDefaultDispatchers(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.close()));
}

class Semaphore {
  private active = 0;
  private readonly waiters: (() => void)[] = [];
  constructor(private readonly limit: number) {}

  async acquire(): Promise<() => void> {
    if (this.active < this.limit) {
      this.active++;
    } else {
      // The releasing holder hands its slot over, so `active` stays unchanged.
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next();
      else this.active--;
    };
  }
}

function semaphoreFor(baseUrl: string, token: string, limit: number): Semaphore {
  // Hashed so the module cache does not hold the token in clear; first client sets the limit.
  const key = createHash('sha256').update(`${baseUrl}\n${token}`).digest('hex');
  let sem = semaphores.get(key);
  if (!sem) {
    sem = new Semaphore(limit);
    semaphores.set(key, sem);
  }
  return sem;
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

function positiveInt(name: string, v: number | undefined, fallback: number, min = 1): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${v}`);
  return v;
}

export function createSevdeskClient(opts: SevdeskClientOptions): SevdeskClient {
  const base = new URL(opts.baseUrl);
  if (base.protocol !== 'https:' && base.protocol !== 'http:') {
    throw new RangeError(`baseUrl must be http(s), got ${base.protocol}`);
  }
  // Credentials in the base URL would end up in error messages; the token goes in a header anyway.
  base.username = '';
  base.password = '';
  base.search = '';
  base.hash = '';
  const basePath = base.pathname.replace(/\/+$/, '');
  const baseKey = `${base.origin}${basePath}`;

  const token = opts.token;
  if (!token) throw new RangeError('token is required');
  const dispatcher = opts.dispatcher ?? defaultDispatcher(base.origin);
  const timeoutMs = positiveInt('timeoutMs', opts.timeoutMs, DEFAULT_TIMEOUT_MS);
  const semaphore = semaphoreFor(
    baseKey,
    token,
    positiveInt('maxConcurrency', opts.maxConcurrency, DEFAULT_MAX_CONCURRENCY),
  );
  const attempts = positiveInt('retry.attempts', opts.retry?.attempts, DEFAULT_RETRY.attempts);
  const baseDelayMs = positiveInt('retry.baseDelayMs', opts.retry?.baseDelayMs, DEFAULT_RETRY.baseDelayMs, 0);
  const maxDelayMs = positiveInt('retry.maxDelayMs', opts.retry?.maxDelayMs, DEFAULT_RETRY.maxDelayMs, 0);
  const sleep = opts.sleep ?? ((ms: number) => delay(ms));
  const random = opts.random ?? Math.random;
  const headers = {
    authorization: token,
    accept: 'application/json',
    'user-agent': opts.userAgent ?? DEFAULT_USER_AGENT,
  };
  let sent = 0;

  /** Removes the token from anything derived from a response before it can reach a message. */
  const redact = (s: string): string => (token.length >= 4 ? s.split(token).join('[redacted]') : s);

  function buildUrl(path: string, params?: URLSearchParams): URL {
    const url = new URL(base.origin);
    url.pathname = `${basePath}${path}`;
    if (params && [...params.keys()].length > 0) url.search = params.toString();
    return url;
  }

  async function attempt(url: URL): Promise<unknown> {
    const shownUrl = url.toString();
    const release = await semaphore.acquire();
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    try {
      let res: Dispatcher.ResponseData;
      try {
        sent++;
        res = await request(url, {
          method: 'GET',
          headers,
          dispatcher,
          signal: controller.signal,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
      } catch (e) {
        throw networkError(e, timedOut ? 'timeout' : 'connection', shownUrl);
      }
      let text: string;
      try {
        text = await res.body.text();
      } catch (e) {
        throw networkError(e, timedOut ? 'timeout' : 'truncated', shownUrl);
      }
      return interpret(res.statusCode, res.headers, text, shownUrl);
    } finally {
      clearTimeout(timer);
      release();
    }
  }

  function networkError(e: unknown, phase: NetworkErrorKind, url: string): SevdeskError {
    if (e instanceof SevdeskError) return e;
    const code = errorCode(e);
    if (code === 'UND_ERR_INVALID_ARG') {
      // A programming error (bad header/option), not the network: never worth a retry.
      return new SevdeskBadRequestError(
        `invalid request to sevDesk: ${redact(errorMessage(e))} (GET ${url})`,
        { url },
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
        ? `timed out after ${timeoutMs} ms`
        : kind === 'truncated'
          ? 'response body cut short'
          : 'connection failed';
    const detail = redact(errorMessage(e));
    return new SevdeskNetworkError(
      `sevDesk request ${what}${code ? ` (${code})` : ''}${detail ? `: ${detail}` : ''} (GET ${url})`,
      { url, kind, causeCode: code },
    );
  }

  function interpret(
    status: number,
    resHeaders: Dispatcher.ResponseData['headers'],
    text: string,
    url: string,
  ) {
    const json = parseJson(text);
    const envelope = json.ok ? ErrorEnvelope.safeParse(json.value) : undefined;
    const apiError = envelope?.success ? envelope.data.error : undefined;
    const code: SevdeskErrorCode = apiError?.code ?? null;
    const apiMessage = apiError?.message ? redact(apiError.message) : undefined;
    const describe = (label: string) =>
      `sevDesk ${label} (HTTP ${status}${code !== null ? `, code ${code}` : ''})${apiMessage ? `: ${apiMessage}` : ''} (GET ${url})`;

    if (status === 401 || status === 403) {
      throw new SevdeskInvalidTokenError(describe('rejected the API token'), { status, url });
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
      // Errors can arrive with HTTP 200 (e.g. code 390): the body decides, not the status.
      throw new SevdeskBadRequestError(describe('returned an error'), { status, url, code });
    }
    return json.value;
  }

  async function send(path: string, params?: URLSearchParams): Promise<{ body: unknown; url: string }> {
    const url = buildUrl(path, params);
    for (let n = 1; ; n++) {
      try {
        return { body: await attempt(url), url: url.toString() };
      } catch (e) {
        if (!(e instanceof SevdeskError) || !e.retryable || n >= attempts) throw e;
        let wait = Math.floor(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (n - 1)));
        if (e instanceof SevdeskRateLimitedError && e.retryAfterMs !== undefined) {
          // Longer than we are willing to block: hand the wait to the caller (a Temporal activity retry).
          if (e.retryAfterMs > maxDelayMs) throw e;
          wait = e.retryAfterMs;
        }
        await sleep(wait);
      }
    }
  }

  async function list<T>(schema: z.ZodType<T>, objectName: string, path: string, params: URLSearchParams) {
    const { body, url } = await send(path, params);
    return parsePage(schema, objectName, body, url);
  }

  async function getById<T>(schema: z.ZodType<T>, objectName: string, path: string, id: string): Promise<T> {
    checkId(objectName, id);
    const { body, url } = await send(`${path}/${encodeURIComponent(id)}`);
    const env = ListEnvelope.safeParse(
      isRecord(body) && isRecord(body['objects']) ? { ...body, objects: [body['objects']] } : body,
    );
    if (!env.success) throw schemaError(env.error.issues, { objectName, objectId: id, url, envelope: true });
    const match = env.data.objects.find((o) => readId(o) === id);
    if (match === undefined) {
      if (env.data.objects.length === 0) {
        const message = `sevDesk object not found: ${objectName} ${id} (empty reply) (GET ${url})`;
        throw new SevdeskNotFoundError(message, { status: 200, url });
      }
      throw new SevdeskSchemaError(`sevDesk reply holds no ${objectName} with id ${id} (GET ${url})`, {
        url,
        objectName,
        objectId: id,
        issues: [{ path: 'objects', message: `no object with id ${id}` }],
      });
    }
    const parsed = schema.safeParse(match);
    if (!parsed.success) throw schemaError(parsed.error.issues, { objectName, objectId: id, url });
    return parsed.data;
  }

  let countries: Promise<StaticCountry[]> | undefined;

  return {
    async checkToken() {
      const { body, url } = await send('/Invoice', new URLSearchParams({ limit: '1' }));
      const env = ListEnvelope.safeParse(body);
      if (!env.success) throw schemaError(env.error.issues, { objectName: 'Invoice', url, envelope: true });
    },

    async listInvoices(q = {}) {
      const p = pagingParams(q);
      setNumber(p, 'updateAfter', q.updateAfter, { unixSeconds: true });
      setString(p, 'status', q.status);
      setString(p, 'invoiceType', q.invoiceType);
      setRef(p, 'contact', q.contactId, 'Contact');
      setRef(p, 'origin', q.originId, 'Invoice');
      return list(Invoice, 'Invoice', '/Invoice', p);
    },

    async getInvoice(id) {
      return getById(Invoice, 'Invoice', '/Invoice', id);
    },

    async listContacts(q = {}) {
      const p = pagingParams(q);
      p.set('depth', '1');
      setNumber(p, 'updateAfter', q.updateAfter, { unixSeconds: true });
      return list(Contact, 'Contact', '/Contact', p);
    },

    async getContact(id) {
      return getById(Contact, 'Contact', '/Contact', id);
    },

    async listCommunicationWays(q = {}) {
      const p = pagingParams(q);
      setRef(p, 'contact', q.contactId, 'Contact');
      setString(p, 'type', q.type);
      return list(CommunicationWay, 'CommunicationWay', '/CommunicationWay', p);
    },

    async listContactAddresses(q = {}) {
      const p = pagingParams(q);
      setRef(p, 'contact', q.contactId, 'Contact');
      return list(ContactAddress, 'ContactAddress', '/ContactAddress', p);
    },

    listStaticCountries() {
      countries ??= (async () => {
        const all: StaticCountry[] = [];
        const pages = walkPages(
          (offset, limit) =>
            list(StaticCountry, 'StaticCountry', '/StaticCountry', pagingParams({ limit, offset })),
          { limit: MAX_PAGE_LIMIT },
        );
        for await (const { page } of pages) all.push(...page.objects);
        return all;
      })();
      // A failed load must not be cached.
      countries.catch(() => (countries = undefined));
      return countries;
    },

    requestCount() {
      return sent;
    },
  };
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
  if (!isRecord(e)) return null;
  const code = e['code'];
  if (typeof code === 'string') return code;
  // undici wraps socket errors; the OS code (ECONNRESET, ECONNREFUSED) sits on the cause.
  const cause = e['cause'];
  return isRecord(cause) && typeof cause['code'] === 'string' ? cause['code'] : null;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : typeof e === 'string' ? e : '';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readId(o: unknown): string | null {
  if (!isRecord(o)) return null;
  const id = o['id'];
  return typeof id === 'string' ? id : typeof id === 'number' && Number.isFinite(id) ? String(id) : null;
}

function checkId(objectName: string, id: string): void {
  // A malformed id would only earn a 4xx, and many error replies can get a token blocked.
  if (!SevdeskId.safeParse(id).success) {
    throw new SevdeskBadRequestError(`invalid ${objectName} id ${JSON.stringify(String(id).slice(0, 40))}`);
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

function schemaError(
  zodIssues: readonly z.core.$ZodIssue[],
  ctx: { objectName: string; objectId?: string | null; url: string; envelope?: boolean },
): SevdeskSchemaError {
  const issues: SchemaIssue[] = zodIssues.map((i) => ({ path: formatPath(i.path), message: i.message }));
  const first = issues[0];
  const more = issues.length > 1 ? ` (+${issues.length - 1} more)` : '';
  const subject = ctx.envelope
    ? `${ctx.objectName} list reply`
    : `${ctx.objectName} ${ctx.objectId ?? '(id unreadable)'}`;
  const where = first ? `${first.path || '(root)'}: ${first.message}` : 'invalid';
  return new SevdeskSchemaError(
    `sevDesk ${subject} does not match the schema: ${where}${more} (GET ${ctx.url})`,
    {
      url: ctx.url,
      objectName: ctx.objectName,
      objectId: ctx.objectId ?? null,
      issues,
    },
  );
}

function parsePage<T>(schema: z.ZodType<T>, objectName: string, body: unknown, url: string): Page<T> {
  const env = ListEnvelope.safeParse(body);
  if (!env.success) throw schemaError(env.error.issues, { objectName, url, envelope: true });
  const objects: T[] = [];
  const invalid: InvalidObject[] = [];
  for (const raw of env.data.objects) {
    const parsed = schema.safeParse(raw);
    if (parsed.success) {
      objects.push(parsed.data);
    } else {
      const id = readId(raw);
      invalid.push({ id, error: schemaError(parsed.error.issues, { objectName, objectId: id, url }) });
    }
  }
  const total = env.data.total;
  return {
    objects,
    invalid,
    rawCount: env.data.objects.length,
    total: total === undefined || total === null ? null : Number(total),
  };
}

function pagingParams(q: { limit?: number; offset?: number; countAll?: boolean }): URLSearchParams {
  const p = new URLSearchParams();
  if (q.limit !== undefined) {
    if (!Number.isInteger(q.limit) || q.limit < 1 || q.limit > MAX_PAGE_LIMIT) {
      throw new SevdeskBadRequestError(
        `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}, got ${q.limit}`,
      );
    }
    p.set('limit', String(q.limit));
  }
  setNumber(p, 'offset', q.offset);
  if (q.countAll) p.set('countAll', 'true');
  return p;
}

function setNumber(
  p: URLSearchParams,
  name: string,
  v: number | undefined,
  o: { unixSeconds?: boolean } = {},
) {
  if (v === undefined) return;
  if (!Number.isInteger(v) || v < 0)
    throw new SevdeskBadRequestError(`${name} must be a non-negative integer, got ${v}`);
  if (o.unixSeconds && v >= MAX_UNIX_SECONDS) {
    throw new SevdeskBadRequestError(`${name} must be unix seconds, got ${v} (milliseconds?)`);
  }
  p.set(name, String(v));
}

function setString(p: URLSearchParams, name: string, v: string | undefined) {
  if (v !== undefined && v !== '') p.set(name, v);
}

/** Reference filters use brackets: contact[id]=X&contact[objectName]=Contact. */
function setRef(p: URLSearchParams, name: string, id: string | undefined, objectName: string) {
  if (id === undefined) return;
  checkId(objectName, id);
  p.set(`${name}[id]`, id);
  p.set(`${name}[objectName]`, objectName);
}
