import { ServiceError } from '@temporalio/client';

// The one error the use cases throw for something the caller can act on. The CLI prints the message and
// exits 1; the HTTP API answers {error: {type, message}} with httpStatusOf(type).

export type AppErrorType =
  /** No such account or interface (or nothing held for confirmation). */
  | 'not_found'
  /** The request contradicts the current state: already exists with other settings, must deactivate first. */
  | 'conflict'
  /** sevDesk refused the token (HTTP 401), or it is not shaped like one. */
  | 'invalid_token'
  /** A value the caller gave is wrong: a base URL that is not https, a missing token, ... */
  | 'invalid_input'
  /** The interface is deactivated (or blocked by an invalid token) and cannot do this now. */
  | 'inactive'
  /** Temporal or sevDesk could not be reached; trying again later may work. */
  | 'unavailable'
  /** A run (an import, a sync) ended in failure; the message says why. */
  | 'failed'
  /** What was asked for is no longer kept (a feed cursor older than the retention); the message says what to do. */
  | 'gone';

export class AppError extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly type: AppErrorType,
    message: string,
  ) {
    super(message);
  }
}

export const isAppError = (err: unknown): err is AppError => err instanceof AppError;

const HTTP_STATUS: Record<AppErrorType, number> = {
  not_found: 404,
  conflict: 409,
  invalid_token: 422,
  invalid_input: 400,
  inactive: 409,
  unavailable: 503,
  failed: 502,
  gone: 410,
};

/** The HTTP status code that fits an error type. */
export const httpStatusOf = (type: AppErrorType): number => HTTP_STATUS[type];

const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;
const PG_UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'CONNECT_TIMEOUT', 'ENOTFOUND']);

/** Temporal or PostgreSQL out of reach becomes an 'unavailable' AppError; anything else is returned as is. */
export function toAppError(err: unknown): unknown {
  if (err instanceof AppError) return err;
  if (err instanceof ServiceError) {
    const code = (err.cause as { code?: unknown } | undefined)?.code;
    if (code === GRPC_UNAVAILABLE || code === GRPC_DEADLINE_EXCEEDED)
      return new AppError('unavailable', `the Temporal server is not reachable: ${err.message}`);
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && PG_UNREACHABLE.has(code))
    return new AppError('unavailable', `the database is not reachable (${code})`);
  return err;
}

/** A use case whose infrastructure failures come out as AppError('unavailable'). */
export const guarded =
  <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
  async (...args: A): Promise<R> => {
    try {
      return await fn(...args);
    } catch (err) {
      throw toAppError(err);
    }
  };
