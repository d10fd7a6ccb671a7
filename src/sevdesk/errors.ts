// Typed sevDesk errors. Activities map them to Temporal failures by `type` (never by message text), so
// `type` must equal the class name and stay stable. No error ever carries the request headers or options:
// the token lives only in the Authorization header and must not leak into logs or workflow histories.

export type SevdeskErrorType =
  | 'SevdeskInvalidTokenError'
  | 'SevdeskNotFoundError'
  | 'SevdeskRateLimitedError'
  | 'SevdeskServerError'
  | 'SevdeskBadRequestError'
  | 'SevdeskSchemaError'
  | 'SevdeskNetworkError'
  | 'SevdeskResponseTooLargeError';

/** sevDesk's own error code (e.g. 151 not found, 390 partly paid); null when the envelope has none. */
export type SevdeskErrorCode = number | string | null;

export interface SevdeskErrorOptions {
  status?: number;
  url?: string;
}

export abstract class SevdeskError extends Error {
  readonly type: SevdeskErrorType;
  abstract readonly retryable: boolean;
  readonly status?: number;
  readonly url?: string;

  protected constructor(type: SevdeskErrorType, message: string, opts: SevdeskErrorOptions = {}) {
    super(message);
    this.type = type;
    this.name = type;
    if (opts.status !== undefined) this.status = opts.status;
    if (opts.url !== undefined) this.url = opts.url;
  }

  /** Plain, token-free data for logs and Temporal failure details. */
  toJSON(): Record<string, unknown> {
    return {
      ...Object.fromEntries(Object.entries(this)),
      type: this.type,
      name: this.name,
      message: this.message,
    };
  }
}

/** 401/403: missing, wrong or revoked token, or no permission. Retrying only risks a token block. */
export class SevdeskInvalidTokenError extends SevdeskError {
  declare readonly type: 'SevdeskInvalidTokenError';
  readonly retryable = false;
  constructor(message: string, opts: SevdeskErrorOptions = {}) {
    super('SevdeskInvalidTokenError', message, opts);
  }
}

export type SevdeskRefusalOptions = SevdeskErrorOptions & { code?: SevdeskErrorCode };

/** A request sevDesk refused, with its own error code when the envelope had one: retrying cannot help. */
abstract class SevdeskRefusalError extends SevdeskError {
  readonly retryable = false;
  readonly code: SevdeskErrorCode;
  protected constructor(type: SevdeskErrorType, message: string, opts: SevdeskRefusalOptions) {
    super(type, message, opts);
    this.code = opts.code ?? null;
  }
}

/** 404, or sevDesk code 151 ("No Model_X with the id N was found"), also when sent with HTTP 200. */
export class SevdeskNotFoundError extends SevdeskRefusalError {
  declare readonly type: 'SevdeskNotFoundError';
  constructor(message: string, opts: SevdeskRefusalOptions = {}) {
    super('SevdeskNotFoundError', message, opts);
  }
}

/** 429. `retryAfterMs` is set when the reply had a usable Retry-After header. */
export class SevdeskRateLimitedError extends SevdeskError {
  declare readonly type: 'SevdeskRateLimitedError';
  readonly retryable = true;
  readonly retryAfterMs?: number;
  constructor(message: string, opts: SevdeskErrorOptions & { retryAfterMs?: number } = {}) {
    super('SevdeskRateLimitedError', message, opts);
    if (opts.retryAfterMs !== undefined) this.retryAfterMs = opts.retryAfterMs;
  }
}

/** 5xx, including gateway pages that are not JSON. sevDesk sometimes answers 500 where 400 is meant. */
export class SevdeskServerError extends SevdeskError {
  declare readonly type: 'SevdeskServerError';
  readonly retryable = true;
  readonly bodySnippet: string;
  constructor(message: string, opts: SevdeskErrorOptions & { bodySnippet?: string } = {}) {
    super('SevdeskServerError', message, opts);
    this.bodySnippet = opts.bodySnippet ?? '';
  }
}

/** Any other 4xx, and error envelopes that arrive with HTTP 200 (e.g. code 390). */
export class SevdeskBadRequestError extends SevdeskRefusalError {
  declare readonly type: 'SevdeskBadRequestError';
  constructor(message: string, opts: SevdeskRefusalOptions = {}) {
    super('SevdeskBadRequestError', message, opts);
  }
}

export interface SchemaIssue {
  path: string;
  message: string;
}

/**
 * The reply does not match the schema. Names the object and the field path; never the offending value,
 * which may be personal data.
 */
export class SevdeskSchemaError extends SevdeskError {
  declare readonly type: 'SevdeskSchemaError';
  readonly retryable = false;
  readonly objectName: string | null;
  readonly objectId: string | null;
  /** Path of the first issue, e.g. "sumNet" or "contact.id"; "" for the root. */
  readonly path: string;
  readonly issues: SchemaIssue[];
  constructor(
    message: string,
    opts: SevdeskErrorOptions & {
      objectName?: string | null;
      objectId?: string | null;
      issues?: SchemaIssue[];
    } = {},
  ) {
    super('SevdeskSchemaError', message, opts);
    this.objectName = opts.objectName ?? null;
    this.objectId = opts.objectId ?? null;
    this.issues = opts.issues ?? [];
    this.path = this.issues[0]?.path ?? '';
  }
}

export type NetworkErrorKind = 'timeout' | 'connection' | 'truncated' | 'invalid-json';

/** Connection refused/reset, timeout, a body cut short or not parseable as JSON. */
export class SevdeskNetworkError extends SevdeskError {
  declare readonly type: 'SevdeskNetworkError';
  readonly retryable = true;
  readonly kind: NetworkErrorKind;
  /** The underlying error code (e.g. ECONNRESET, UND_ERR_SOCKET), when there is one. */
  readonly causeCode: string | null;
  constructor(
    message: string,
    opts: SevdeskErrorOptions & { kind: NetworkErrorKind; causeCode?: string | null },
  ) {
    super('SevdeskNetworkError', message, opts);
    this.kind = opts.kind;
    this.causeCode = opts.causeCode ?? null;
  }
}

/** The reply exceeded the client's size cap (default 50 MB): reading it again would only repeat that. */
export class SevdeskResponseTooLargeError extends SevdeskError {
  declare readonly type: 'SevdeskResponseTooLargeError';
  readonly retryable = false;
  readonly limitBytes: number;
  constructor(message: string, opts: SevdeskErrorOptions & { limitBytes: number }) {
    super('SevdeskResponseTooLargeError', message, opts);
    this.limitBytes = opts.limitBytes;
  }
}

/** For Temporal's `nonRetryableErrorTypes`: retrying these cannot help. */
export const SEVDESK_NON_RETRYABLE_ERROR_TYPES: string[] = [
  'SevdeskInvalidTokenError',
  'SevdeskNotFoundError',
  'SevdeskBadRequestError',
  'SevdeskSchemaError',
  'SevdeskResponseTooLargeError',
] satisfies SevdeskErrorType[];

export const SEVDESK_RETRYABLE_ERROR_TYPES: string[] = [
  'SevdeskRateLimitedError',
  'SevdeskServerError',
  'SevdeskNetworkError',
] satisfies SevdeskErrorType[];

export function isSevdeskError(e: unknown): e is SevdeskError {
  return e instanceof SevdeskError;
}
