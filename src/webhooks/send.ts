// One webhook POST: the URL rules and the address policy, no redirects (a 3xx is a failure), one time limit
// for connecting, sending and the whole answer. Kept-alive connections per origin (undici), so a backlog goes
// out over one connection. A failure is an answer, never a throw (only a cancellation throws).
import type { Dispatcher } from 'undici';
import { Agent, request } from 'undici';
import { WebhookAddressError, guardedLookup } from './address';
import { displayUrl, parseWebhookUrl } from './url';

export interface WebhookSenderOptions {
  /** Per attempt: connect, send, and the answer's headers and body (SEVSYNC_WEBHOOK_TIMEOUT_MS). */
  timeoutMs: number;
  /** Private network ranges allowed (SEVSYNC_WEBHOOK_ALLOW_PRIVATE). */
  allowPrivate: boolean;
}

export interface SendResult {
  /** A 2xx answer. */
  ok: boolean;
  /** The HTTP status; null when there was no answer. */
  status: number | null;
  /** What went wrong, for `webhooks list` and the logs (never a secret: no header is repeated). */
  error: string | null;
  durationMs: number;
}

/** How much of an error answer is kept (for `last_error`), and how much of any answer is read at all. */
const SNIPPET_CHARS = 200;
const MAX_BODY_BYTES = 64 * 1024;

const USER_AGENT = 'sevsync-webhooks/1 (Standard Webhooks)';

/** Control characters and runs of white space out: an answer's text goes into a single line. */
const oneLine = (s: string) =>
  s
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

async function readSnippet(body: Dispatcher.ResponseData['body']): Promise<string> {
  let text = '';
  let bytes = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (text.length < SNIPPET_CHARS) text += chunk.toString('utf8');
    if (bytes > MAX_BODY_BYTES) {
      body.destroy();
      break;
    }
  }
  const line = oneLine(text);
  return line.length > SNIPPET_CHARS ? `${line.slice(0, SNIPPET_CHARS)}…` : line;
}

function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { errors?: unknown[]; cause?: unknown };
  const address = [e, e.cause, ...(e.errors ?? [])].find((x) => x instanceof WebhookAddressError);
  if (address) return `refused: ${(address as Error).message}`;
  const code = e.code ?? (e.cause as NodeJS.ErrnoException | undefined)?.code;
  const message = oneLine(e.message || String(err));
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

const resolve = (location: string, base: URL): string => {
  try {
    return new URL(location, base).toString();
  } catch {
    return location;
  }
};

export class WebhookSender {
  private readonly https: Agent;
  private readonly http: Agent;

  constructor(private readonly opts: WebhookSenderOptions) {
    const common = {
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 60_000,
      pipelining: 1,
    };
    this.https = new Agent({
      ...common,
      connect: { timeout: opts.timeoutMs, lookup: guardedLookup({ allowPrivate: opts.allowPrivate }) },
    });
    // Plain http goes to loopback only, whatever a name resolves to.
    this.http = new Agent({
      ...common,
      connect: {
        timeout: opts.timeoutMs,
        lookup: guardedLookup({ allowPrivate: opts.allowPrivate, loopbackOnly: true }),
      },
    });
  }

  /**
   * POSTs `body` with `headers`. Resolves with the outcome; rejects only when `signal` aborts (the
   * activity was cancelled).
   */
  async send(
    url: string,
    headers: Record<string, string>,
    body: string,
    signal?: AbortSignal,
  ): Promise<SendResult> {
    const started = performance.now();
    const done = (ok: boolean, status: number | null, error: string | null): SendResult => ({
      ok,
      status,
      error,
      durationMs: Math.round(performance.now() - started),
    });
    const parsed = parseWebhookUrl(url, this.opts);
    if (!parsed.ok) return done(false, null, `the URL ${parsed.reason}`);
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      const res = await request(parsed.url, {
        method: 'POST',
        dispatcher: parsed.url.protocol === 'http:' ? this.http : this.https,
        headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...headers },
        body,
        signal: both,
      });
      const status = res.statusCode;
      if (status >= 200 && status < 300) {
        await res.body.dump({ limit: MAX_BODY_BYTES });
        return done(true, status, null);
      }
      const snippet = await readSnippet(res.body);
      if (status >= 300 && status < 400) {
        const location = res.headers['location'];
        const to = typeof location === 'string' ? ` (to ${displayUrl(resolve(location, parsed.url))})` : '';
        return done(false, status, `HTTP ${status}: redirects are not followed${to}`);
      }
      return done(false, status, `HTTP ${status}${snippet ? `: ${snippet}` : ''}`);
    } catch (err) {
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : err;
      if (timeout.aborted) return done(false, null, `no answer within ${this.opts.timeoutMs} ms`);
      return done(false, null, describeError(err));
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.https.close(), this.http.close()]);
  }
}
