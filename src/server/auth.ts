// Who may call: OneCockpit's backend with `Authorization: Bearer <SEVSYNC_API_TOKEN>`, and people with a
// session cookie from the sign-in form (the API token) or from a one-time sign-in link (scoped to one
// account, made by the backend). Cookies are HttpOnly, SameSite=Strict and signed; a request authenticated
// by cookie that changes something must come from our own pages (Origin, else Referer, must match).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'sevsync_session';
const SESSION_TTL_MS = 8 * 60 * 60 * 1000;
const LINK_TTL_MS = 15 * 60 * 1000;

export interface Principal {
  /** null: every account (the API token); else the one account a sign-in link was made for. */
  account: string | null;
  via: 'bearer' | 'session';
}

interface Session {
  account: string | null;
  expiresAt: number;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time comparison (hashing first makes the lengths equal). */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

export class Sessions {
  private readonly sessions = new Map<string, Session>();
  private readonly links = new Map<string, { account: string | null; next: string; expiresAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  create(account: string | null): string {
    this.sweep();
    const id = randomBytes(32).toString('base64url');
    this.sessions.set(id, { account, expiresAt: this.now() + SESSION_TTL_MS });
    return id;
  }

  get(id: string): Session | undefined {
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (s.expiresAt <= this.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    s.expiresAt = this.now() + SESSION_TTL_MS;
    return s;
  }

  end(id: string): void {
    this.sessions.delete(id);
  }

  /** A one-time sign-in code (not the API token): valid 15 minutes, used once. */
  createLink(account: string | null, next: string): { code: string; expiresAt: Date } {
    this.sweep();
    const code = randomBytes(24).toString('base64url');
    const expiresAt = this.now() + LINK_TTL_MS;
    this.links.set(code, { account, next, expiresAt });
    return { code, expiresAt: new Date(expiresAt) };
  }

  redeemLink(code: string): { account: string | null; next: string } | undefined {
    const link = this.links.get(code);
    this.links.delete(code);
    if (!link || link.expiresAt <= this.now()) return undefined;
    return { account: link.account, next: link.next };
  }

  private sweep(): void {
    const t = this.now();
    for (const [k, v] of this.sessions) if (v.expiresAt <= t) this.sessions.delete(k);
    for (const [k, v] of this.links) if (v.expiresAt <= t) this.links.delete(k);
  }
}

/** Wrong sign-ins per client address: after 10 in 10 minutes, further tries wait (guessing stays slow). */
export class SignInThrottle {
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
    if (this.failures.size > 10_000) this.failures.clear();
  }

  private recent(client: string): number[] {
    const since = this.now() - this.windowMs;
    return (this.failures.get(client) ?? []).filter((t) => t > since);
  }
}

export function bearerToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  const m = h ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
  return m?.[1];
}

export function sessionId(req: FastifyRequest): string | undefined {
  const raw = req.cookies[SESSION_COOKIE];
  if (!raw) return undefined;
  const unsigned = req.unsignCookie(raw);
  return unsigned.valid && unsigned.value ? unsigned.value : undefined;
}

export function setSessionCookie(reply: FastifyReply, id: string): void {
  void reply.setCookie(SESSION_COOKIE, id, {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    secure: 'auto',
    signed: true,
    maxAge: SESSION_TTL_MS / 1000,
  });
}

export function clearSessionCookie(reply: FastifyReply): void {
  void reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: 'auto' });
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export const isUnsafe = (req: FastifyRequest): boolean => UNSAFE.has(req.method);

/** Our own origin as the browser sees it (Host header; https only behind a TLS-terminating proxy). */
export const ownOrigin = (req: FastifyRequest): string => `${req.protocol}://${req.host}`;

/** For cookie-authenticated writes: Origin (or, if a browser sent none, Referer) must be our own origin. */
export function sameOrigin(req: FastifyRequest): boolean {
  const expected = ownOrigin(req);
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
