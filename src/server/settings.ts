// What `sevsync serve` reads from the environment besides the application's configuration: who may call
// (the API tokens, the embed key), where it runs (the public origin, the proxies it trusts, who may frame
// the pages) and how much it allows (token checks, request timeouts). Parsed once at the entrypoint;
// errors name the variable, never a value.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export interface ServeSettings {
  /** SEVSYNC_API_TOKENS (comma-separated, for rotation) and SEVSYNC_API_TOKEN: each opens every account. */
  apiTokens: string[];
  /** SEVSYNC_ALLOW_TOKEN_SIGN_IN=1: the sign-in form takes the API token (off: only links and embed tokens). */
  allowTokenSignIn: boolean;
  /** SEVSYNC_EMBED_SECRET (HS256) or SEVSYNC_EMBED_PUBLIC_KEY (PEM; EdDSA or ES256): embed tokens' key. */
  embed: EmbedKeySetting | undefined;
  /** SEVSYNC_PUBLIC_ORIGIN (`https://sync.example.com`): links and the Origin check use it. */
  publicOrigin: string | undefined;
  /** SEVSYNC_TRUSTED_PROXIES: addresses or CIDRs whose X-Forwarded-* headers are believed. */
  trustedProxies: string[];
  /** SEVSYNC_EMBED_ORIGINS: origins that may show the pages in a frame (OneCockpit's). */
  frameAncestors: string[];
  /** SEVSYNC_TOKEN_CHECKS_PER_MINUTE: sevDesk token checks one account may cause per minute. */
  tokenChecksPerAccount: number;
  /** SEVSYNC_TOKEN_CHECKS_PER_CALLER_PER_MINUTE: the same per caller (API token, embed user, address). */
  tokenChecksPerCaller: number;
  /** SEVSYNC_REQUEST_TIMEOUT_MS: a request (body included) that takes longer is cut off. */
  requestTimeoutMs: number;
  /** SEVSYNC_AUTH_FAILURES_PER_ADDRESS: failed authentications per client address in 10 minutes. */
  authFailuresPerAddress: number;
}

export type EmbedKeySetting = { kind: 'secret'; secret: string } | { kind: 'public-key'; pem: string };

export const DEFAULT_SERVE_SETTINGS: ServeSettings = {
  apiTokens: [],
  allowTokenSignIn: false,
  embed: undefined,
  publicOrigin: undefined,
  trustedProxies: [],
  frameAncestors: [],
  tokenChecksPerAccount: 10,
  tokenChecksPerCaller: 30,
  requestTimeoutMs: 30_000,
  authFailuresPerAddress: 10,
};

export class ServeSettingsError extends Error {
  override readonly name = 'ServeSettingsError';
}

const list = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const flag = (v: string | undefined) => v === '1' || v === 'true';

function origin(name: string, v: string): string {
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new ServeSettingsError(`${name}: not a URL (expected e.g. https://sync.example.com)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new ServeSettingsError(`${name}: must be an http(s) origin`);
  if (url.pathname !== '/' || url.search || url.hash || url.username)
    throw new ServeSettingsError(`${name}: an origin only (scheme, host, port), without a path`);
  return url.origin;
}

const positive = (name: string, v: string | undefined, fallback: number) => {
  if (v === undefined || v.trim() === '') return fallback;
  const n = z.coerce.number().int().positive().safeParse(v);
  if (!n.success) throw new ServeSettingsError(`${name}: must be a positive whole number`);
  return n.data;
};

function embedKey(env: NodeJS.ProcessEnv): EmbedKeySetting | undefined {
  const secret = env.SEVSYNC_EMBED_SECRET?.trim();
  let pem = env.SEVSYNC_EMBED_PUBLIC_KEY?.trim();
  const file = env.SEVSYNC_EMBED_PUBLIC_KEY_FILE?.trim();
  if (file) {
    if (pem)
      throw new ServeSettingsError('set SEVSYNC_EMBED_PUBLIC_KEY or SEVSYNC_EMBED_PUBLIC_KEY_FILE, not both');
    try {
      pem = readFileSync(file, 'utf8').trim();
    } catch (err) {
      const code = err instanceof Error && 'code' in err ? String(err.code) : 'unreadable';
      throw new ServeSettingsError(`SEVSYNC_EMBED_PUBLIC_KEY_FILE: cannot read ${file} (${code})`);
    }
  }
  if (secret && pem)
    throw new ServeSettingsError('set SEVSYNC_EMBED_SECRET or SEVSYNC_EMBED_PUBLIC_KEY, not both');
  if (secret) {
    if (Buffer.byteLength(secret, 'utf8') < 32)
      throw new ServeSettingsError(
        'SEVSYNC_EMBED_SECRET must be at least 32 characters (e.g. openssl rand -hex 32)',
      );
    return { kind: 'secret', secret };
  }
  if (pem) {
    if (!pem.includes('-----BEGIN PUBLIC KEY-----'))
      throw new ServeSettingsError(
        'SEVSYNC_EMBED_PUBLIC_KEY: expected a PEM public key (-----BEGIN PUBLIC KEY-----)',
      );
    return { kind: 'public-key', pem };
  }
  return undefined;
}

export function serveSettingsFromEnv(env: NodeJS.ProcessEnv): ServeSettings {
  const apiTokens = [...list(env.SEVSYNC_API_TOKENS), ...list(env.SEVSYNC_API_TOKEN)];
  for (const [i, t] of apiTokens.entries()) {
    if (t.length < 16)
      throw new ServeSettingsError(
        `SEVSYNC_API_TOKEN(S): token ${i + 1} must be at least 16 characters (e.g. openssl rand -hex 32)`,
      );
  }
  return {
    apiTokens: [...new Set(apiTokens)],
    allowTokenSignIn: flag(env.SEVSYNC_ALLOW_TOKEN_SIGN_IN),
    embed: embedKey(env),
    publicOrigin: env.SEVSYNC_PUBLIC_ORIGIN?.trim()
      ? origin('SEVSYNC_PUBLIC_ORIGIN', env.SEVSYNC_PUBLIC_ORIGIN.trim())
      : undefined,
    trustedProxies: list(env.SEVSYNC_TRUSTED_PROXIES),
    frameAncestors: list(env.SEVSYNC_EMBED_ORIGINS).map((o) => origin('SEVSYNC_EMBED_ORIGINS', o)),
    tokenChecksPerAccount: positive(
      'SEVSYNC_TOKEN_CHECKS_PER_MINUTE',
      env.SEVSYNC_TOKEN_CHECKS_PER_MINUTE,
      DEFAULT_SERVE_SETTINGS.tokenChecksPerAccount,
    ),
    tokenChecksPerCaller: positive(
      'SEVSYNC_TOKEN_CHECKS_PER_CALLER_PER_MINUTE',
      env.SEVSYNC_TOKEN_CHECKS_PER_CALLER_PER_MINUTE,
      DEFAULT_SERVE_SETTINGS.tokenChecksPerCaller,
    ),
    requestTimeoutMs: positive(
      'SEVSYNC_REQUEST_TIMEOUT_MS',
      env.SEVSYNC_REQUEST_TIMEOUT_MS,
      DEFAULT_SERVE_SETTINGS.requestTimeoutMs,
    ),
    authFailuresPerAddress: positive(
      'SEVSYNC_AUTH_FAILURES_PER_ADDRESS',
      env.SEVSYNC_AUTH_FAILURES_PER_ADDRESS,
      DEFAULT_SERVE_SETTINGS.authFailuresPerAddress,
    ),
  };
}
