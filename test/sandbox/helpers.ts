import { startSandbox, type Sandbox, type SandboxOptions } from '../../sandbox';

export interface ApiResult<T = unknown> {
  status: number;
  headers: Headers;
  text: string;
  body: T;
}

/** GETs (or other methods) against the sandbox API with its token; parses JSON when the body is JSON. */
export async function api<T = unknown>(
  sandbox: Sandbox,
  path: string,
  init: RequestInit & { token?: string | null } = {},
): Promise<ApiResult<T>> {
  const { token, ...rest } = init;
  const headers = new Headers(rest.headers);
  const auth = token === undefined ? sandbox.token : token;
  if (auth !== null) headers.set('Authorization', auth);
  const res = await fetch(`${sandbox.url}${path}`, { ...rest, headers });
  const text = await res.text();
  let body: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json')) body = JSON.parse(text);
  return { status: res.status, headers: res.headers, text, body: body as T };
}

/** POST/DELETE against the control API. */
export async function control<T = unknown>(
  sandbox: Sandbox,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const base = sandbox.url.replace(/\/api\/v1$/, '');
  const res = await fetch(`${base}/__sandbox${path}`, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

export function withSandbox(opts?: SandboxOptions): {
  get: () => Sandbox;
  start: () => Promise<void>;
  stop: () => Promise<void>;
} {
  let sandbox: Sandbox | undefined;
  return {
    get: () => {
      if (!sandbox) throw new Error('sandbox not started');
      return sandbox;
    },
    start: async () => {
      sandbox = await startSandbox(opts);
    },
    stop: async () => {
      await sandbox?.close();
      sandbox = undefined;
    },
  };
}

/** Polls a synchronous condition every 10 ms until it holds; fails with `what` after `timeoutMs`. */
export async function until(ok: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!ok()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A clock the test moves by hand. */
export function manualClock(start: string): {
  now: () => Date;
  set: (iso: string) => void;
  advance: (seconds: number) => void;
} {
  let current = new Date(start).getTime();
  return {
    now: () => new Date(current),
    set: (iso) => {
      current = new Date(iso).getTime();
    },
    advance: (seconds) => {
      current += seconds * 1000;
    },
  };
}

export interface ListBody<T> {
  objects: T[];
  total?: string;
}

export interface ErrorBody {
  error: {
    exceptionUUID: string;
    message: string;
    errorCode: number;
    code: number | null;
    data: unknown;
    responseCode: number;
  };
  objects: null;
}

/** Decimal string as sevDesk prints money: no trailing zeros, at most two decimals. */
export const MONEY = /^-?(0|[1-9]\d*)(\.\d?[1-9])?$/;
/** ISO 8601 with a Berlin offset. */
export const BERLIN_ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0[12]:00$/;

export function cents(value: string): number {
  const [whole = '0', frac = ''] = value.replace('-', '').split('.');
  const abs = Number(whole) * 100 + Number(frac.padEnd(2, '0'));
  return value.startsWith('-') ? -abs : abs;
}
