// Who may call, and the helpers the server's auth hook (./index.ts) is built from:
// - OneCockpit's backend: `Authorization: Bearer <API token>` (SEVSYNC_API_TOKENS; every account), or an
//   embed token (a JWT it signed for one user and one account, ./embed.ts);
// - browsers: a session cookie from an embed token (/ui/embed), a one-time sign-in link, or (only with
//   SEVSYNC_ALLOW_TOKEN_SIGN_IN=1) the API token typed into the sign-in form. Sessions live in PostgreSQL
//   (src/app/sessions.ts), so every replica and a restarted one know them; the cookie holds a random id.
// Cookies are HttpOnly and SameSite=Strict (None in a OneCockpit frame, where the Origin check below is what
// stops cross-site writes); `__Host-` and Secure when the public origin is https. A request authenticated by
// cookie that changes something must come from our own pages (Origin, else Referer, must be our origin).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The cookie's name on plain http (loopback, tests); behind https it is `__Host-sevsync_session`. */
export const SESSION_COOKIE = 'sevsync_session';
const SECURE_SESSION_COOKIE = `__Host-${SESSION_COOKIE}`;
export const SESSION_TTL_S = 8 * 60 * 60;

export interface Principal {
  /** null: every account (the API token); else the one account an embed token, link or session is for. */
  account: string | null;
  via: 'bearer' | 'session';
  /** Who, for the audit log: `api-token`, `embed:<user>`, `session:<subject>`. */
  actor: string;
}

/** How the session cookie is set: from the public origin and whether the pages may be framed. */
export interface CookiePolicy {
  name: string;
  secure: boolean;
  sameSite: 'strict' | 'none';
  partitioned: boolean;
}

export function cookiePolicy(opts: { publicOrigin: string | undefined; framed: boolean }): CookiePolicy {
  const secure = opts.publicOrigin?.startsWith('https://') ?? false;
  // A frame on another site gets its cookie only as SameSite=None, which browsers take only with Secure.
  const framed = opts.framed && secure;
  return {
    name: secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE,
    secure,
    sameSite: framed ? 'none' : 'strict',
    partitioned: framed,
  };
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time comparison (hashing first makes the lengths equal). */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** Whether `given` is one of the API tokens; every token is compared, so the time says nothing. */
export function isApiToken(given: string, tokens: readonly string[]): boolean {
  let found = false;
  for (const t of tokens) found = sameSecret(given, t) || found;
  return found;
}

/**
 * Failed authentication per client address (behind a trusted proxy: the address the proxy saw): after
 * `limit` failures in the window, further tries are refused until old failures age out.
 */
export class FailureThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly limit = 10,
    private readonly windowMs = 10 * 60 * 1000,
  ) {}

  blocked(client: string): boolean {
    return this.recent(client).length >= this.limit;
  }

  failed(client: string): void {
    const list = this.recent(client);
    list.push(this.now());
    this.failures.set(client, list);
    if (this.failures.size > 10_000) this.prune();
  }

  private recent(client: string): number[] {
    const since = this.now() - this.windowMs;
    return (this.failures.get(client) ?? []).filter((t) => t > since);
  }

  private prune(): void {
    const since = this.now() - this.windowMs;
    for (const [k, v] of this.failures) if (!v.some((t) => t > since)) this.failures.delete(k);
    // A flood from many addresses must not grow the map without bound.
    while (this.failures.size > 10_000) this.failures.delete(this.failures.keys().next().value!);
  }
}

/** The name the sign-in form's throttle had. */
export const SignInThrottle = FailureThrottle;

export function bearerToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  const m = h ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
  return m?.[1];
}

/** The session id from the cookie (either name: a proxy put in front later must not sign everyone out). */
export function sessionId(req: FastifyRequest): string | undefined {
  const raw = req.cookies[SECURE_SESSION_COOKIE] ?? req.cookies[SESSION_COOKIE];
  return raw && /^[A-Za-z0-9_-]{20,100}$/.test(raw) ? raw : undefined;
}

export function setSessionCookie(reply: FastifyReply, policy: CookiePolicy, id: string): void {
  void reply.setCookie(policy.name, id, {
    path: '/',
    httpOnly: true,
    sameSite: policy.sameSite,
    secure: policy.secure,
    partitioned: policy.partitioned,
    maxAge: SESSION_TTL_S,
  });
}

export function clearSessionCookie(reply: FastifyReply, policy: CookiePolicy): void {
  void reply.clearCookie(policy.name, {
    path: '/',
    httpOnly: true,
    sameSite: policy.sameSite,
    secure: policy.secure,
    partitioned: policy.partitioned,
  });
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export const isUnsafe = (req: FastifyRequest): boolean => UNSAFE.has(req.method);

/**
 * Our own origin as the browser sees it: SEVSYNC_PUBLIC_ORIGIN when set, else from the request (Host, and
 * the scheme a trusted proxy reports).
 */
export const ownOrigin = (req: FastifyRequest, publicOrigin?: string): string =>
  publicOrigin ?? `${req.protocol}://${req.host}`;

/** For cookie-authenticated writes: Origin (or, if a browser sent none, Referer) must be our own origin. */
export function sameOrigin(req: FastifyRequest, publicOrigin?: string): boolean {
  const expected = ownOrigin(req, publicOrigin);
  const origin = req.headers.origin;
  if (origin) return origin === expected;
  const referer = req.headers.referer;
  if (!referer) return false;
  try {
    return new URL(referer).origin === expected;
  } catch {
    return false;
  }
}

/** Where to go after signing in: only our own pages (no open redirect). */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/ui\/[^\\]*$/.test(next) && !next.startsWith('//') ? next : '/ui/';
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}
