// Limits that keep the token check from becoming an oracle for stolen sevDesk tokens, and our outgoing
// address from being blocked by sevDesk for every tenant:
// - a sliding window per account and per caller on the requests that make us check a token at sevDesk;
// - a breaker that pauses new token checks for a while when sevDesk has rejected many different tokens in
//   a short time (someone is trying a list).
// Both are per process: with n replicas a caller gets at most n times the limit, which still stops a list.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServeSettings } from './settings';
import { errorPage } from './views';

/** Events per key in a sliding window; `hit` says whether one more is allowed (and counts it if so). */
export class SlidingWindow {
  private readonly hits = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** null: allowed (and counted); else the seconds until one more would be. */
  hit(key: string): number | null {
    const t = this.now();
    const list = (this.hits.get(key) ?? []).filter((x) => x > t - this.windowMs);
    if (list.length >= this.limit) {
      this.hits.set(key, list);
      return Math.max(1, Math.ceil((list[0]! + this.windowMs - t) / 1000));
    }
    list.push(t);
    this.hits.set(key, list);
    if (this.hits.size > 20_000) this.prune(t);
    return null;
  }

  private prune(t: number): void {
    for (const [k, v] of this.hits) if (!v.some((x) => x > t - this.windowMs)) this.hits.delete(k);
    while (this.hits.size > 20_000) this.hits.delete(this.hits.keys().next().value!);
  }
}

export class TokenChecksPausedError extends Error {
  override readonly name = 'TokenChecksPausedError';
  constructor(readonly retryAfterSeconds: number) {
    super(
      `sevDesk rejected many different API tokens in a short time; new token checks pause for ` +
        `${Math.ceil(retryAfterSeconds / 60)} minutes (a running sync is not affected)`,
    );
  }
}

/**
 * Opens when `threshold` different tokens were rejected within `windowMs`, and stays open `pauseMs`.
 * Only digests of the tokens are kept.
 */
export class TokenRejectionBreaker {
  private readonly rejected = new Map<string, number>();
  private openUntil = 0;

  constructor(
    private readonly threshold = 20,
    private readonly windowMs = 5 * 60 * 1000,
    private readonly pauseMs = 10 * 60 * 1000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws TokenChecksPausedError while open. */
  admit(): void {
    const t = this.now();
    if (t < this.openUntil) throw new TokenChecksPausedError(Math.ceil((this.openUntil - t) / 1000));
  }

  /** sevDesk rejected this token. */
  rejectedToken(token: string): void {
    const t = this.now();
    for (const [k, at] of this.rejected) if (at <= t - this.windowMs) this.rejected.delete(k);
    this.rejected.set(createHash('sha256').update(token).digest('base64url'), t);
    if (this.rejected.size >= this.threshold) {
      this.openUntil = t + this.pauseMs;
      this.rejected.clear();
    }
  }

  get open(): boolean {
    return this.now() < this.openUntil;
  }
}

/** The routes whose body may carry a sevDesk token that we then check at sevDesk. */
const TOKEN_ROUTES = new Set([
  'POST /api/accounts/:account/interface',
  'PATCH /api/accounts/:account/interface',
  'POST /ui/accounts/:account/interface',
  'POST /ui/accounts/:account/interface/settings',
]);

/** Whether this request makes us check a sevDesk token (a route above, with a token in its body). */
export function checksToken(req: FastifyRequest): boolean {
  if (!TOKEN_ROUTES.has(`${req.method} ${req.routeOptions.url ?? ''}`)) return false;
  const token = (req.body as { token?: unknown } | undefined)?.token;
  return typeof token === 'string' && token.trim() !== '';
}

/**
 * At most `tokenChecksPerAccount` token checks a minute for one account, and `tokenChecksPerCaller` for one
 * caller (the actor behind the request, and its address): the next gets 429 with Retry-After.
 */
export function registerTokenCheckLimits(
  app: FastifyInstance,
  settings: Pick<ServeSettings, 'tokenChecksPerAccount' | 'tokenChecksPerCaller'>,
): void {
  const perAccount = new SlidingWindow(settings.tokenChecksPerAccount, 60_000);
  const perCaller = new SlidingWindow(settings.tokenChecksPerCaller, 60_000);
  app.addHook('preHandler', async (req, reply) => {
    if (!checksToken(req)) return;
    const account = (req.params as { account?: string }).account ?? '';
    const caller = `${req.principal?.actor ?? 'anonymous'}|${req.ip}`;
    const wait = perAccount.hit(account) ?? perCaller.hit(caller);
    if (wait === null) return;
    req.log.warn({ account, ip: req.ip }, 'token checks limited');
    const message = `too many sevDesk token checks; try again in ${wait} s`;
    void reply.header('retry-after', String(wait));
    if (req.url.startsWith('/ui/')) {
      const page = errorPage(
        { account },
        {
          title: 'Zu viele Versuche',
          message: `Zu viele API-Token in kurzer Zeit geprüft. Versuche es in ${wait} Sekunden wieder.`,
        },
      );
      return reply.code(429).type('text/html; charset=utf-8').send(page);
    }
    return reply.code(429).send({ error: { type: 'rate_limited', message } });
  });
}
