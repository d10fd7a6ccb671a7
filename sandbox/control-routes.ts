import { z } from 'zod';
import { SandboxError } from './errors';
import { FAULT_KINDS, type FaultInjector, type FaultSpec } from './faults';
import type { RequestLog } from './request-log';
import { POISON_OBJECTS, type SandboxStore } from './store';

// The control API lets other processes (the demo, chaos runs) change the sandbox while it serves:
// POST/DELETE under /__sandbox/, outside /api/v1 and its auth, answered to loopback clients only.

const AddInvoiceBody = z.strictObject({
  contactId: z.string().min(1),
  invoiceType: z.enum(['RE', 'AR', 'TR', 'ER', 'WKR', 'MA']).optional(),
  status: z.enum(['100', '200', '750', '1000']).optional(),
  sumNet: z.string().optional(),
  taxRate: z.union([z.literal(0), z.literal(7), z.literal(19)]).optional(),
  currency: z.string().length(3).optional(),
  invoiceDate: z.iso
    .datetime({ offset: true })
    .transform((s) => new Date(s))
    .optional(),
  timeToPay: z.number().int().min(0).max(365).optional(),
  paidAmount: z.string().optional(),
  advanceInvoiceIds: z.array(z.string().regex(/^\d+$/)).max(50).optional(),
  reminderCharge: z
    .string()
    .regex(/^\d+(\.\d+)?$/)
    .optional(),
  originInvoiceId: z.string().regex(/^\d+$/).optional(),
  dunningLevel: z.number().int().min(1).max(9).optional(),
});

const AddressBody = z.strictObject({
  street: z.string(),
  zip: z.string(),
  city: z.string(),
  countryId: z.string().optional(),
});

const AddContactBody = z.strictObject({
  kind: z.enum(['person', 'organisation']),
  name: z.string().optional(),
  surename: z.string().optional(),
  familyname: z.string().optional(),
  academicTitle: z.string().optional(),
  parentId: z.string().optional(),
  emails: z
    .array(
      z.strictObject({ value: z.string(), main: z.boolean().optional(), key: z.number().int().optional() }),
    )
    .optional(),
  phones: z.array(z.string()).optional(),
  mobiles: z.array(z.string()).optional(),
  address: AddressBody.optional(),
});

/** Raw wire fields served over an object's real ones: any JSON, on purpose (poison records). */
const PoisonBody = z.strictObject({
  objectName: z.enum(POISON_OBJECTS),
  id: z.string().min(1),
  fields: z.record(z.string(), z.unknown()).nullable(),
});

const PayBody = z.strictObject({ amount: z.string().optional() });
/** `stamp: false` leaves the contact's `update` as it was (an e-mail edit sevDesk may not stamp). */
const EmailBody = z.strictObject({ email: z.string().min(1).nullable(), stamp: z.boolean().optional() });
const TokenBody = z.strictObject({ token: z.string().min(1) });

const FaultBody = z.strictObject({
  kind: z.enum(FAULT_KINDS as [FaultSpec['kind'], ...FaultSpec['kind'][]]),
  // JSON has no Infinity: "Infinity" (or null) means forever.
  times: z
    .union([z.number().int().positive(), z.literal('Infinity'), z.null()])
    .transform((t) => (t === 'Infinity' || t === null ? Infinity : t))
    .optional(),
  retryAfterSeconds: z.number().int().min(0).optional(),
  delayMs: z.number().int().min(0).max(600_000).optional(),
  path: z.string().optional(),
  /** A regular expression source, for when a prefix is not enough. */
  pathPattern: z.string().optional(),
  field: z.string().optional(),
  /** Let this many matching requests through before the fault fires. */
  skip: z.number().int().min(0).optional(),
});

export interface ControlResult {
  status: number;
  body: unknown;
}

export interface ControlDeps {
  store: SandboxStore;
  faults: FaultInjector;
  requests: RequestLog;
  setToken: (token: string) => void;
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (!result.success) {
    throw new SandboxError({
      status: 400,
      code: null,
      message: `Invalid body: ${z.prettifyError(result.error)}`,
    });
  }
  return result.data;
}

/** A request to the control API: the path below /__sandbox/ and what came with it. */
export interface ControlRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
}

export function routeControl(input: ControlRequest & { deps: ControlDeps }): ControlResult {
  const { deps, method, path, query, body } = input;
  const parts = path.split('/').filter((p) => p);
  const [resource, id, action] = parts;
  const { store, faults, requests } = deps;

  if (resource === 'invoices') {
    if (method === 'POST' && parts.length === 1)
      return { status: 201, body: { objects: store.addInvoice(parse(AddInvoiceBody, body)) } };
    if (id !== undefined && parts.length === 2 && method === 'DELETE') {
      store.deleteInvoice(id);
      return { status: 200, body: { objects: [null] } };
    }
    if (id !== undefined && parts.length === 3 && method === 'POST') {
      if (action === 'pay')
        return { status: 200, body: { objects: store.payInvoice(id, parse(PayBody, body).amount) } };
      if (action === 'cancel') return { status: 201, body: { objects: store.cancelInvoice(id) } };
      if (action === 'finalize') return { status: 200, body: { objects: store.finalizeInvoice(id) } };
    }
  }

  if (resource === 'contacts') {
    if (method === 'POST' && parts.length === 1) {
      const input = parse(AddContactBody, body);
      return { status: 201, body: { objects: { id: store.addContact(input) } } };
    }
    if (id !== undefined && action === 'email' && method === 'POST') {
      const { email, stamp } = parse(EmailBody, body);
      store.setContactEmail(id, email, stamp === undefined ? {} : { stamp });
      return { status: 200, body: { objects: store.communicationWays(id) } };
    }
  }

  if (resource === 'poison' && parts.length === 1) {
    if (method === 'POST') {
      const { objectName, id: objectId, fields } = parse(PoisonBody, body);
      store.setPoison(objectName, objectId, fields);
      return { status: 201, body: { objects: store.poisonedObjects() } };
    }
    if (method === 'DELETE') {
      store.clearPoison();
      return { status: 200, body: { objects: [] } };
    }
    if (method === 'GET') return { status: 200, body: { objects: store.poisonedObjects() } };
  }

  if (resource === 'faults' && parts.length === 1) {
    if (method === 'POST') {
      const { pathPattern, times, ...spec } = parse(FaultBody, body);
      const full: FaultSpec = { ...spec, ...(times === undefined ? {} : { times }) };
      if (pathPattern !== undefined) full.path = new RegExp(pathPattern);
      faults.add(full);
      return { status: 201, body: { objects: serializeFaults(faults.pending()) } };
    }
    if (method === 'DELETE') {
      faults.clear();
      return { status: 200, body: { objects: [] } };
    }
    if (method === 'GET') return { status: 200, body: { objects: serializeFaults(faults.pending()) } };
  }

  if (resource === 'requests' && parts.length === 1) {
    if (method === 'GET') {
      const withEntries = query.get('entries') === 'true';
      return {
        status: 200,
        body: { count: requests.count(), ...(withEntries ? { entries: requests.entries() } : {}) },
      };
    }
    if (method === 'DELETE') {
      requests.reset();
      return { status: 200, body: { count: 0 } };
    }
  }

  if (resource === 'token' && parts.length === 1 && method === 'POST') {
    deps.setToken(parse(TokenBody, body).token);
    return { status: 200, body: { objects: { ok: true } } };
  }

  throw new SandboxError({
    status: 404,
    code: null,
    message: `Unknown control route ${method} /__sandbox/${parts.join('/')}`,
  });
}

function serializeFaults(specs: FaultSpec[]): unknown[] {
  return specs.map((s) => ({
    ...s,
    times: s.times === Infinity ? 'Infinity' : s.times,
    path: s.path instanceof RegExp ? s.path.source : s.path,
  }));
}
