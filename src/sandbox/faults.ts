// Injected failures for resilience tests. Everything here is INVENTED for the sandbox [GUESS]: sevDesk has
// no documented rate limit and nobody has recorded a 429 (API-NOTES §3), and the shapes of gateway errors,
// hangs and broken bodies are not documented either. Only error-200 imitates a measured behaviour (errors
// with HTTP 200, API-NOTES §2), with an invented message.

export type FaultKind =
  | 'rate-limit'
  | 'server-error-html'
  | 'slow'
  | 'hang'
  | 'truncated'
  | 'malformed'
  | 'invalid-token'
  | 'error-200';

export const FAULT_KINDS: readonly FaultKind[] = [
  'rate-limit',
  'server-error-html',
  'slow',
  'hang',
  'truncated',
  'malformed',
  'invalid-token',
  'error-200',
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
  /** malformed: the field of one object to corrupt; default 'sumGross' ('id' becomes a JSON number). */
  field?: string;
}

interface Pending {
  spec: FaultSpec;
  remaining: number;
}

/**
 * Faults that change the answer after it was computed; they apply only to answers they can break. All
 * other kinds act like a gateway in front of the API: before authentication and routing.
 */
export const POST_RESPONSE_FAULTS: ReadonlySet<FaultKind> = new Set(['truncated', 'malformed']);

export class FaultInjector {
  private queue: Pending[] = [];

  add(spec: FaultSpec): void {
    const times = spec.times ?? 1;
    if (!(times > 0)) throw new Error('times must be > 0');
    this.queue.push({ spec: { ...spec }, remaining: times });
  }

  clear(): void {
    this.queue = [];
  }

  /** The faults still to fire, with `times` set to what remains. */
  pending(): FaultSpec[] {
    return this.queue.map(({ spec, remaining }) => ({ ...spec, times: remaining }));
  }

  /** The first pending fault for this API path (`/Invoice/1`), without consuming it. */
  match(apiPath: string): FaultSpec | undefined {
    return this.queue.find(({ spec }) => matches(spec.path, apiPath))?.spec;
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

/** An nginx-style error page, the kind of non-JSON 5xx body a gateway sends (API-NOTES §2). */
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
