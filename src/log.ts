// The worker's logger: JSON lines when stdout is not a terminal (containers, log shippers), short text on a
// terminal. It is also the Temporal Runtime logger, so SDK, workflow and activity logs share one format.
// Secrets never reach the output: fields named like a secret are replaced, and anything shaped like a
// sevDesk API token (32 hex digits), a password in a URL or a webhook secret is masked in every string.
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';

const LEVELS: Record<LogLevel, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 };
const SECRET_FIELD = /token|authorization|password|secret|^key$|cookie/i;
const TOKEN_SHAPE = /\b[0-9a-f]{32}\b/gi;
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+@/gi;
/** A webhook signing secret (`whsec_` + base64). */
const WEBHOOK_SECRET = /\bwhsec_[A-Za-z0-9+/=]+/g;

export type LogFormat = 'json' | 'pretty';

export interface LoggerOptions {
  level?: LogLevel;
  /** Default: JSON unless stdout is a TTY. */
  format?: LogFormat | 'auto';
  /** Where lines go; default process.stderr (stdout stays for command output, as in the rest of the CLI). */
  write?: (line: string) => void;
  /** Fields on every line (e.g. service, taskQueue). */
  base?: LogMetadata;
}

/** Masks token-shaped text, URL passwords and webhook secrets. */
export function redactText(s: string): string {
  return s
    .replace(TOKEN_SHAPE, '[redacted]')
    .replace(URL_PASSWORD, '$1[redacted]@')
    .replace(WEBHOOK_SECRET, 'whsec_[redacted]');
}

/** A JSON-safe, secret-free copy of log metadata (errors, bigint, cycles and depth handled). */
export function redactValue(v: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof v === 'string') return redactText(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v !== 'object' || v === null) return typeof v === 'function' ? undefined : v;
  if (seen.has(v) || depth > 6) return '[…]';
  seen.add(v);
  if (v instanceof Error) {
    return {
      name: v.name,
      message: redactText(v.message),
      ...(v.stack ? { stack: redactText(v.stack) } : {}),
      ...(v.cause !== undefined ? { cause: redactValue(v.cause, depth + 1, seen) } : {}),
    };
  }
  if (Array.isArray(v)) return v.map((x) => redactValue(x, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    out[k] =
      SECRET_FIELD.test(k) && x !== null && x !== undefined ? '[redacted]' : redactValue(x, depth + 1, seen);
  }
  return out;
}

export class SevsyncLogger implements Logger {
  private readonly min: number;
  private readonly format: LogFormat;
  private readonly write: (line: string) => void;
  private readonly base: LogMetadata;

  constructor(opts: LoggerOptions = {}) {
    this.min = LEVELS[opts.level ?? 'INFO'];
    this.format =
      !opts.format || opts.format === 'auto' ? (process.stdout.isTTY ? 'pretty' : 'json') : opts.format;
    this.write = opts.write ?? ((line) => void process.stderr.write(`${line}\n`));
    this.base = opts.base ?? {};
  }

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (LEVELS[level] < this.min) return;
    const fields = redactValue({ ...this.base, ...meta }) as Record<string, unknown>;
    const msg = redactText(message);
    if (this.format === 'json') {
      this.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }));
    } else {
      const extra = Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : '';
      this.write(`${new Date().toISOString()} ${level.padEnd(5)} ${msg}${extra}`);
    }
  }

  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

export function createLogger(opts: LoggerOptions = {}): SevsyncLogger {
  return new SevsyncLogger(opts);
}
