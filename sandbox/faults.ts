// Injected failures for resilience tests. Everything here is INVENTED for the sandbox [GUESS]: sevDesk has
// no documented rate limit and nobody has recorded a 429 (docs/sevdesk.md, "Rate limits"), and the shapes of gateway errors,
// hangs and broken bodies are not documented either. Only error-200 imitates a measured behaviour (errors
// with HTTP 200, docs/sevdesk.md, "Errors"), with an invented message.

export type FaultKind =
  | 'rate-limit'
  | 'server-error-html'
  | 'slow'
  | 'hang'
  | 'truncated'
  | 'malformed'
  | 'invalid-token'
  | 'error-200'
  | 'empty-page'
  | 'short-page'
  | 'duplicate-rows'
  | 'poison'
  | 'gateway-401'
  | 'gateway-403';

export const FAULT_KINDS: readonly FaultKind[] = [
  'rate-limit',
  'server-error-html',
  'slow',
  'hang',
  'truncated',
  'malformed',
  'invalid-token',
  'error-200',
  'empty-page',
  'short-page',
  'duplicate-rows',
  'poison',
  'gateway-401',
  'gateway-403',
];

export interface FaultSpec {
  kind: FaultKind;
  /** How many matching requests it hits; default 1, Infinity allowed. */
  times?: number;
  /** rate-limit: the Retry-After header (seconds) is sent only when this is given. */
  retryAfterSeconds?: number;
  /** slow: delay before the normal answer; default 2000. */
  delayMs?: number;
  /**
   * Which requests: a string matches the API path (`/Invoice`, `/Invoice/123`; the `/api/v1` prefix may be
   * included) by prefix at a segment boundary; a RegExp is tested against both forms. Default: all.
   */
  path?: string | RegExp;
  /**
   * malformed: the field of one object to corrupt; default 'sumGross' ('id' becomes a JSON number, which sevsync
   * reads as the same id: a form, not a corruption).
   * poison: the field that gets a value people could type and the schema accepts, but a database may refuse
   * (see POISON_VALUES).
   */
  field?: string;
  /** Let this many matching requests through first (e.g. to hit the third page of a walk). */
  skip?: number;
}

interface Pending {
  spec: FaultSpec;
  remaining: number;
  /** Matching requests still to let through. */
  skip: number;
}

/**
 * Faults that change the answer after it was computed; they apply only to answers they can break. All
 * other kinds act like a gateway in front of the API: before authentication and routing.
 */
export const POST_RESPONSE_FAULTS: ReadonlySet<FaultKind> = new Set([
  'truncated',
  'malformed',
  'empty-page',
  'short-page',
  'duplicate-rows',
  'poison',
]);

export class FaultInjector {
  private queue: Pending[] = [];

  add(spec: FaultSpec): void {
    const times = spec.times ?? 1;
    if (!(times > 0)) throw new Error('times must be > 0');
    this.queue.push({ spec: { ...spec }, remaining: times, skip: spec.skip ?? 0 });
  }

  clear(): void {
    this.queue = [];
  }

  /** The faults still to fire, with `times` set to what remains. */
  pending(): FaultSpec[] {
    return this.queue.map(({ spec, remaining, skip }) => ({
      ...spec,
      times: remaining,
      ...(spec.skip === undefined ? {} : { skip }),
    }));
  }

  /**
   * The first pending fault for this API path (`/Invoice/1`), without consuming it. Called once per request:
   * a fault that still lets requests through counts this one and answers nothing.
   */
  match(apiPath: string): FaultSpec | undefined {
    const pending = this.queue.find(({ spec }) => matches(spec.path, apiPath));
    if (!pending) return undefined;
    if (pending.skip > 0) {
      pending.skip -= 1;
      return undefined;
    }
    return pending.spec;
  }

  /** Uses up one firing of a fault returned by {@link match}. */
  consume(spec: FaultSpec): void {
    const at = this.queue.findIndex((p) => p.spec === spec);
    const pending = this.queue[at];
    if (!pending) return;
    pending.remaining -= 1;
    if (pending.remaining <= 0) this.queue.splice(at, 1);
  }
}

function matches(path: string | RegExp | undefined, apiPath: string): boolean {
  if (path === undefined) return true;
  const full = `/api/v1${apiPath}`;
  if (path instanceof RegExp) return path.test(apiPath) || path.test(full);
  return [apiPath, full].some((p) => p === path || p.startsWith(path.endsWith('/') ? path : `${path}/`));
}

/** A proxy's refusal in front of the API [GUESS]: HTML, not sevDesk's JSON error envelope. */
export const gatewayPage = (status: 401 | 403): string =>
  `<html>\r\n<head><title>${status} ${status === 401 ? 'Authorization Required' : 'Forbidden'}</title></head>\r\n` +
  `<body>\r\n<center><h1>${status} ${status === 401 ? 'Authorization Required' : 'Forbidden'}</h1></center>\r\n` +
  '<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n';

/** An nginx-style error page, the kind of non-JSON 5xx body a gateway sends (docs/sevdesk.md, "Errors"). */
export const HTML_500 =
  '<html>\r\n<head><title>500 Internal Server Error</title></head>\r\n<body>\r\n' +
  '<center><h1>500 Internal Server Error</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

/**
 * Corrupts one field of the middle object of a list page, leaving the rest valid. Returns false when the
 * body has no objects to corrupt.
 */
export function corruptPage(body: unknown, field = 'sumGross'): boolean {
  if (typeof body !== 'object' || body === null) return false;
  const objects = (body as { objects?: unknown }).objects;
  if (!Array.isArray(objects) || objects.length === 0) return false;
  const at = Math.floor(objects.length / 2);
  const target = objects[at] as Record<string, unknown>;
  const key = field in target ? field : 'id';
  const copy = { ...target };
  copy[key] = key === 'id' ? Number(target.id) : 'abc';
  objects[at] = copy;
  return true;
}

/**
 * A list page that lies about its length, as a glitching backend or proxy might [GUESS]: `empty-page` sends no
 * objects, `short-page` drops the second half, `duplicate-rows` repeats the first rows in place of the last
 * ones (the page keeps its length, so the walk goes on with rows missing). `total` stays as computed. Returns
 * false when the body is not a list page with objects.
 */
export function distortPage(body: unknown, kind: 'empty-page' | 'short-page' | 'duplicate-rows'): boolean {
  if (typeof body !== 'object' || body === null) return false;
  const page = body as { objects?: unknown };
  if (!Array.isArray(page.objects) || page.objects.length === 0) return false;
  const objects = page.objects as unknown[];
  if (kind === 'empty-page') page.objects = [];
  else if (kind === 'short-page') page.objects = objects.slice(0, Math.floor(objects.length / 2));
  else {
    const n = Math.max(1, Math.floor(objects.length / 4));
    page.objects = [...objects.slice(0, objects.length - n), ...objects.slice(0, n)];
  }
  return true;
}

/**
 * Values that pass the wire schema but that no `numeric(14,2)`, text column or calendar takes as they are
 * [GUESS: typed by people or produced by an import]: a NUL character, an amount of 10^15, a payment term of
 * 10^8 days, a date in the year 9999.
 */
export const POISON_VALUES: Record<string, unknown> = {
  invoiceNumber: 'RE-\u0000-2026',
  sumGross: '1000000000000000',
  timeToPay: '100000000',
  invoiceDate: '9999-12-31T00:00:00+01:00',
  customerInternalNote: 'Notiz \u0000 mit NUL',
};

/** Puts one poison value into the middle object of a list page. */
export function poisonPage(body: unknown, field = 'sumGross'): boolean {
  if (typeof body !== 'object' || body === null) return false;
  const objects = (body as { objects?: unknown }).objects;
  if (!Array.isArray(objects) || objects.length === 0) return false;
  const at = Math.floor(objects.length / 2);
  const key = field in POISON_VALUES ? field : 'sumGross';
  objects[at] = { ...(objects[at] as Record<string, unknown>), [key]: POISON_VALUES[key] };
  return true;
}
