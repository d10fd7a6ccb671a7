import { randomUUID } from 'node:crypto';

/**
 * An error the way sevDesk reports it: `status` is the HTTP status (200 for the errors sevDesk sends with
 * HTTP 200, e.g. code 390), `code` the sevDesk error code or null.
 */
export class SandboxError extends Error {
  override readonly name = 'SandboxError';
  readonly status: number;
  readonly code: number | null;

  constructor({ status, code, message }: { status: number; code: number | null; message: string }) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export interface ErrorEnvelope {
  error: {
    exceptionUUID: string;
    message: string;
    errorCode: number;
    code: number | null;
    data: unknown[] | Record<string, unknown>;
    responseCode: number;
  };
  objects: null;
}

/** The error envelope as measured on a live account (test/fixtures/sevdesk/error_404.json has its shape). */
export function errorEnvelope({
  status,
  code,
  message,
  data = [],
}: {
  status: number;
  code: number | null;
  message: string;
  data?: unknown[] | Record<string, unknown>;
}): ErrorEnvelope {
  return {
    error: { exceptionUUID: randomUUID(), message, errorCode: 0, code, data, responseCode: status },
    objects: null,
  };
}

export function notFound(model: string, id: string): SandboxError {
  return new SandboxError({
    status: 404,
    code: 151,
    message: `No Model_${model} with the id ${id} was found`,
  });
}

export function badRequest(message: string): SandboxError {
  // [GUESS] validation errors of the sandbox's own mutation API: 400 without a sevDesk code.
  return new SandboxError({ status: 400, code: null, message });
}

export const LIMIT_MESSAGE = "Invalid 'limit' parameter. Please provide an integer value between 1 and 1000.";
