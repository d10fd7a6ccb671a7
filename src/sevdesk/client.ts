// The sevDesk API client: typed reads over the transport in ./http (time, size and concurrency bounds, typed
// errors, at most one short in-call wait for a 429). Retrying is Temporal's job, not this module's.
import type { z } from 'zod';
import { version } from '../../package.json';
import { SevdeskBadRequestError, SevdeskNotFoundError, SevdeskSchemaError, type SchemaIssue } from './errors';
import { createTransport, type Transport, type TransportOptions } from './http';
import { MAX_PAGE_LIMIT, walkPages, type InvalidObject, type Page } from './paging';
import type { FastReader } from './readers';
import { readCommunicationWay, readContact, readContactAddress, readInvoice } from './readers';
import {
  CommunicationWay,
  Contact,
  ContactAddress,
  Invoice,
  ListEnvelope,
  SevdeskId,
  StaticCountry,
  type Total,
} from './schema';

export { collectPages, dedupeById, walkPages, type InvalidObject, type Page } from './paging';
export {
  closeDefaultDispatchers,
  createWorkerLimit,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_RATE_LIMIT_WAIT_MS,
  parseRetryAfter,
  type RequestEvent,
} from './http';

export const DEFAULT_USER_AGENT = `sevsync/${version} (+https://onecockpit.example/sevsync)`;

export interface SevdeskRetryOptions {
  /**
   * Requests per call, including the first; at most 2: the second only after a 429 whose Retry-After is
   * within `rateLimitWaitMs`. 1 never waits. Everything else is retried by Temporal (activity retries).
   */
  attempts?: number;
}

/** The transport's options (see TransportOptions), with the client's own defaults and retry setting. */
export interface SevdeskClientOptions extends Omit<TransportOptions, 'maxRequestsPerCall' | 'userAgent'> {
  retry?: SevdeskRetryOptions;
  /** Default DEFAULT_USER_AGENT. */
  userAgent?: string;
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
  countAll?: boolean;
}

export interface ContactAddressQuery {
  contactId?: string;
  limit?: number;
  offset?: number;
  countAll?: boolean;
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
  /** HTTP requests actually sent by this client, the in-call 429 wait included. */
  requestCount(): number;
  /** The API base URL this client talks to (keys caches shared by all clients of one sevDesk, e.g. countries). */
  readonly baseUrl?: string;
}

/** Guards against a caller passing Date.now() where sevDesk expects seconds (year 2286 in seconds). */
const MAX_UNIX_SECONDS = 10_000_000_000;

export function createSevdeskClient(opts: SevdeskClientOptions): SevdeskClient {
  const { retry, userAgent, ...transportOptions } = opts;
  const transport = createTransport({
    ...transportOptions,
    userAgent: userAgent ?? DEFAULT_USER_AGENT,
    maxRequestsPerCall: retry?.attempts,
  });
  return {
    ...listReads(transport),
    ...byIdReads(transport),
    ...countryReads(transport),
    checkToken: () => checkToken(transport),
    requestCount: () => transport.sent(),
    baseUrl: opts.baseUrl,
  };
}

async function checkToken(t: Transport): Promise<void> {
  const { body, url } = await t.get('/Invoice', new URLSearchParams({ limit: '1' }));
  const env = ListEnvelope.safeParse(body);
  if (!env.success) throw schemaError(env.error.issues, { objectName: 'Invoice', url, envelope: true });
}

/**
 * How the objects of one kind are read: by their schema, which has the last word, and by a reader that takes
 * the plainly well-formed ones first (readers.ts: the same objects, several times cheaper).
 */
export interface ObjectReading<T> {
  objectName: string;
  schema: z.ZodType<T>;
  read?: FastReader<T> | undefined;
}

export const READINGS: {
  invoice: ObjectReading<Invoice>;
  contact: ObjectReading<Contact>;
  communicationWay: ObjectReading<CommunicationWay>;
  contactAddress: ObjectReading<ContactAddress>;
  staticCountry: ObjectReading<StaticCountry>;
} = {
  invoice: { objectName: 'Invoice', schema: Invoice, read: readInvoice },
  contact: { objectName: 'Contact', schema: Contact, read: readContact },
  communicationWay: { objectName: 'CommunicationWay', schema: CommunicationWay, read: readCommunicationWay },
  contactAddress: { objectName: 'ContactAddress', schema: ContactAddress, read: readContactAddress },
  staticCountry: { objectName: 'StaticCountry', schema: StaticCountry },
};

async function list<T>(
  t: Transport,
  reading: ObjectReading<T>,
  path: string,
  params: URLSearchParams,
): Promise<Page<T>> {
  const { body, url } = await t.get(path, params);
  return parsePage(reading, body, url);
}

/** The list endpoints: query building only; parsing is parsePage's. */
function listReads(t: Transport) {
  return {
    async listInvoices(q: InvoiceQuery = {}) {
      const p = pagingParams(q);
      setNumber(p, 'updateAfter', q.updateAfter, { unixSeconds: true });
      setString(p, 'status', q.status);
      setString(p, 'invoiceType', q.invoiceType);
      setRef(p, 'contact', q.contactId, 'Contact');
      setRef(p, 'origin', q.originId, 'Invoice');
      // Without it some types (cancellations among them) may be left out of the list: a Storno would be lost.
      p.set('showAll', 'true');
      return list(t, READINGS.invoice, '/Invoice', p);
    },
    async listContacts(q: ContactQuery = {}) {
      const p = pagingParams(q);
      p.set('depth', '1');
      setNumber(p, 'updateAfter', q.updateAfter, { unixSeconds: true });
      return list(t, READINGS.contact, '/Contact', p);
    },
    async listCommunicationWays(q: CommunicationWayQuery = {}) {
      const p = pagingParams(q);
      setRef(p, 'contact', q.contactId, 'Contact');
      setString(p, 'type', q.type);
      return list(t, READINGS.communicationWay, '/CommunicationWay', p);
    },
    async listContactAddresses(q: ContactAddressQuery = {}) {
      const p = pagingParams(q);
      setRef(p, 'contact', q.contactId, 'Contact');
      return list(t, READINGS.contactAddress, '/ContactAddress', p);
    },
  };
}

/** GET /X/{id}: sevDesk answers with a list of one (or an object, or an empty list for "not found"). */
async function getById<T>(t: Transport, reading: ObjectReading<T>, path: string, id: string): Promise<T> {
  const { objectName, schema } = reading;
  checkId(objectName, id);
  const { body, url } = await t.get(`${path}/${encodeURIComponent(id)}`);
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
  const fast = reading.read?.(match);
  if (fast !== undefined) return fast;
  const parsed = schema.safeParse(match);
  if (!parsed.success) throw schemaError(parsed.error.issues, { objectName, objectId: id, url });
  return parsed.data;
}

function byIdReads(t: Transport) {
  return {
    getInvoice: (id: string) => getById(t, READINGS.invoice, '/Invoice', id),
    getContact: (id: string) => getById(t, READINGS.contact, '/Contact', id),
  };
}

/** The country list, read once per client; a failed load is not cached. */
function countryReads(t: Transport) {
  let countries: Promise<StaticCountry[]> | undefined;
  return {
    listStaticCountries(): Promise<StaticCountry[]> {
      countries ??= (async () => {
        const all: StaticCountry[] = [];
        const pages = walkPages(
          (offset, limit) =>
            list(t, READINGS.staticCountry, '/StaticCountry', pagingParams({ limit, offset })),
          { limit: MAX_PAGE_LIMIT },
        );
        for await (const { page } of pages) all.push(...page.objects);
        return all;
      })();
      countries.catch(() => (countries = undefined));
      return countries;
    },
  };
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

/**
 * A list reply's objects: each taken by the reading's fast reader when plainly well-formed, else by its
 * schema; one that fails the schema is kept in `invalid` with its reasons, never failing the page.
 */
export function parsePage<T>(reading: ObjectReading<T>, body: unknown, url: string): Page<T> {
  const { objectName, schema, read } = reading;
  const env = readEnvelope(body);
  if (!env.success) throw schemaError(env.error.issues, { objectName, url, envelope: true });
  const objects: T[] = [];
  const invalid: InvalidObject[] = [];
  for (const raw of env.data.objects) {
    const fast = read?.(raw);
    if (fast !== undefined) {
      objects.push(fast);
      continue;
    }
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

/** The envelope as ListEnvelope reads it; a plainly well-formed one without copying its objects. */
function readEnvelope(
  body: unknown,
):
  | { success: true; data: { objects: unknown[]; total?: Total | null | undefined } }
  | ReturnType<typeof ListEnvelope.safeParse> {
  if (isRecord(body) && Array.isArray(body['objects'])) {
    const total = body['total'];
    if (
      total === undefined ||
      total === null ||
      (typeof total === 'string' && /^\d+$/.test(total)) ||
      (typeof total === 'number' && Number.isSafeInteger(total) && total >= 0)
    )
      return { success: true, data: { objects: body['objects'] as unknown[], total } };
  }
  return ListEnvelope.safeParse(body);
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
