import { LIMIT_MESSAGE, SandboxError, errorEnvelope, notFound } from './errors';
import type { Page, PageRequest, SandboxStore } from './store';
import type { Contact, Invoice } from './types';

export interface ApiResponse {
  status: number;
  body: unknown;
}

/** Query parameters as sevDesk sees them; bracketed names (`contact[id]`) stay literal keys. */
type Params = URLSearchParams;

/** Objects in an answer's `objects`: the list's length, 1 for a single object, 0 for errors and null. */
export function objectCount(body: unknown): number {
  if (typeof body !== 'object' || body === null || !('objects' in body)) return 0;
  const objects = (body as { objects: unknown }).objects;
  if (Array.isArray(objects)) return objects.length;
  return objects === null || objects === undefined ? 0 : 1;
}

function ok(body: unknown, status = 200): ApiResponse {
  return { status, body };
}

export function errorResponse(err: SandboxError): ApiResponse {
  return {
    status: err.status,
    body: errorEnvelope({ status: err.status, code: err.code, message: err.message }),
  };
}

/** limit 1..1000 (default 100), else 400 with the documented message (docs/sevdesk.md, "Errors"). */
function pageOf(params: Params): PageRequest {
  let limit = 100;
  const rawLimit = params.get('limit');
  if (rawLimit !== null) {
    if (!/^\d{1,7}$/.test(rawLimit) || Number(rawLimit) < 1 || Number(rawLimit) > 1000) {
      throw new SandboxError({ status: 400, code: null, message: LIMIT_MESSAGE });
    }
    limit = Number(rawLimit);
  }
  // [GUESS] a malformed offset is read as 0 (like PHP's intval), not refused: not measured.
  const rawOffset = params.get('offset');
  const offset = rawOffset !== null && /^\d{1,12}$/.test(rawOffset) ? Number(rawOffset) : 0;
  const countAll = params.get('countAll') === 'true' || params.get('countAll') === '1';
  return { offset, limit, countAll };
}

/** Unix seconds; anything else is ignored like an unknown parameter [GUESS]. */
function seconds(params: Params, name: string): number | undefined {
  const raw = params.get(name);
  return raw !== null && /^-?\d{1,12}$/.test(raw) ? Number(raw) : undefined;
}

function text(params: Params, name: string): string | undefined {
  const raw = params.get(name);
  return raw === null || raw === '' ? undefined : raw;
}

function list<T>(page: Page<T>): unknown {
  // `total` is a string, as in the spec's prose example (docs/sevdesk.md, "Lists and paging").
  return page.total === undefined
    ? { objects: page.items }
    : { objects: page.items, total: String(page.total) };
}

function embeds(params: Params): Set<string> {
  return new Set(
    (params.get('embed') ?? '')
      .split(',')
      .map((e) => e.trim())
      .filter((e) => e),
  );
}

function embedInvoice(store: SandboxStore, invoice: Invoice, names: Set<string>): Invoice {
  if (names.size === 0) return invoice;
  const out: Invoice = { ...invoice };
  if (names.has('contact') || names.has('contact.parent')) {
    const contact = store.contact(invoice.contact.id);
    if (contact)
      out.contact = names.has('contact.parent') ? embedContact(store, contact, new Set(['parent'])) : contact;
  }
  if (names.has('origin') && invoice.origin) {
    const origin = store.getInvoice(invoice.origin.id);
    if (origin) (out as unknown as Record<string, unknown>).origin = origin;
  }
  if (names.has('addressCountry')) {
    const country = store.countries().find((c) => c.id === invoice.addressCountry.id);
    if (country) (out as unknown as Record<string, unknown>).addressCountry = country;
  }
  return out;
}

function embedContact(store: SandboxStore, contact: Contact, names: Set<string>): Contact {
  if (!names.has('parent') || !contact.parent) return contact;
  const parent = store.contact(contact.parent.id);
  return parent ? { ...contact, parent } : contact;
}

function byId<T>(found: T | undefined, model: string, id: string): ApiResponse {
  if (found === undefined) throw notFound(model, id);
  return ok({ objects: [found] });
}

/**
 * The sevDesk API v1 routes the sandbox knows (docs/sevdesk.md, "Lists and paging"). Unknown query parameters are ignored like
 * sevDesk does. Throws SandboxError for API errors.
 */
export function routeApi({
  store,
  method,
  apiPath,
  params,
}: {
  store: SandboxStore;
  method: string;
  apiPath: string;
  params: Params;
}): ApiResponse {
  const parts = apiPath.split('/').filter((p) => p);
  const [resource, id, action] = parts;
  const get = method === 'GET';

  if (resource === 'Invoice') {
    if (get && parts.length === 1) {
      const page = pageOf(params);
      const order = params.get('orderByInvoiceNumber')?.toUpperCase();
      const result = store.queryInvoices(
        {
          status: text(params, 'status'),
          invoiceType: text(params, 'invoiceType'),
          invoiceNumber: text(params, 'invoiceNumber'),
          contactId: text(params, 'contact[id]'),
          originId: text(params, 'origin[id]'),
          updateAfter: seconds(params, 'updateAfter'),
          updateBefore: seconds(params, 'updateBefore'),
          createAfter: seconds(params, 'createAfter'),
          createBefore: seconds(params, 'createBefore'),
          startDate: seconds(params, 'startDate'),
          endDate: seconds(params, 'endDate'),
          orderByInvoiceNumber: order === 'ASC' || order === 'DESC' ? order : undefined,
          showAll: params.get('showAll') === 'true' ? true : undefined,
        },
        page,
      );
      const names = embeds(params);
      return ok(list({ ...result, items: result.items.map((inv) => embedInvoice(store, inv, names)) }));
    }
    if (id !== undefined && parts.length === 2) {
      if (get) {
        const invoice = store.getInvoice(id);
        return byId(invoice && embedInvoice(store, invoice, embeds(params)), 'Invoice', id);
      }
      if (method === 'DELETE') {
        store.deleteInvoice(id);
        // [GUESS] shaped like the spec's other DELETE answers (e.g. deleteContact): {"objects":[null]}.
        return ok({ objects: [null] });
      }
    }
    if (id !== undefined && parts.length === 3) {
      if (method === 'POST' && action === 'cancelInvoice') {
        const sr = store.cancelInvoice(id);
        // Measured: 201 with a single object, not a list (docs/sevdesk.md, "Lists and paging"). The extra property flags were
        // seen in the live cancelInvoice reply (docs/sevdesk.md, "Invoices"); their values are a [GUESS].
        return ok({ objects: { ...sr, propertyIsEInvoice: false, propertyUseNewCalculation: true } }, 201);
      }
      if (get && action === 'getIsPartiallyPaid') {
        const invoice = store.getInvoice(id);
        if (!invoice) throw notFound('Invoice', id);
        return ok({ objects: invoice.status === '750' });
      }
    }
  }

  if (resource === 'Contact' && get) {
    if (parts.length === 1) {
      const page = pageOf(params);
      const result = store.queryContacts(
        {
          includePersons: params.get('depth') === '1',
          customerNumber: text(params, 'customerNumber'),
          parentId: text(params, 'parent[id]'),
          updateAfter: seconds(params, 'updateAfter'),
          updateBefore: seconds(params, 'updateBefore'),
          createAfter: seconds(params, 'createAfter'),
          createBefore: seconds(params, 'createBefore'),
        },
        page,
      );
      const names = embeds(params);
      return ok(list({ ...result, items: result.items.map((c) => embedContact(store, c, names)) }));
    }
    // GET by id returns persons too, without depth [GUESS, docs/sevdesk.md, "Contacts, e-mails, addresses"].
    if (id !== undefined && parts.length === 2) {
      const contact = store.contact(id);
      return byId(contact && embedContact(store, contact, embeds(params)), 'Contact', id);
    }
  }

  if (resource === 'CommunicationWay' && get) {
    if (parts.length === 1) {
      const result = store.queryCommunicationWays(
        { contactId: text(params, 'contact[id]'), type: text(params, 'type'), main: text(params, 'main') },
        pageOf(params),
      );
      return ok(list(result));
    }
    if (id !== undefined && parts.length === 2)
      return byId(store.communicationWayById(id), 'CommunicationWay', id);
  }

  if (resource === 'ContactAddress' && get) {
    if (parts.length === 1)
      return ok(list(store.queryAddresses({ contactId: text(params, 'contact[id]') }, pageOf(params))));
    if (id !== undefined && parts.length === 2) return byId(store.addressById(id), 'ContactAddress', id);
  }

  if (resource === 'StaticCountry' && get && parts.length === 1) {
    const page = pageOf(params);
    const all = store.countries();
    const items = all.slice(page.offset, page.offset + page.limit);
    return ok(list(page.countAll ? { items, total: all.length } : { items }));
  }

  if (resource === 'CommunicationWayKey' && get && parts.length === 1) {
    return ok({ objects: store.communicationWayKeys() });
  }

  // [GUESS] unknown resources and methods: not measured.
  throw new SandboxError({ status: 404, code: null, message: `Unknown route ${method} ${apiPath}` });
}
