// How sevsync reaches its Temporal server beyond the address: TLS (system CAs or a CA bundle), mTLS with a
// client certificate, an API key (Temporal Cloud), and whether workflow payloads are encrypted. Parsed once
// from the environment (docs/temporal.md); the client (src/app/deps.ts) and the worker (src/worker/create.ts)
// both connect with temporalConnectionOptions(). Errors name the variable and the file, never the API key.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import { z } from 'zod';

/** The TLS side of the settings: the paths as configured, and the file contents the SDK takes. */
export interface TemporalTls {
  /** TEMPORAL_TLS_CERT / TEMPORAL_TLS_KEY: the client certificate and its key (mTLS), PEM. */
  certPath: string | undefined;
  keyPath: string | undefined;
  /** TEMPORAL_TLS_CA: the CA bundle that signed the server's certificate; else the system's CAs. */
  caPath: string | undefined;
  /** TEMPORAL_TLS_SERVER_NAME: the name checked in the server's certificate (and sent as SNI). */
  serverName: string | undefined;
  /** What the SDK takes, read when the settings were parsed. */
  config: TLSConfig;
}

export interface TemporalSettings {
  /** undefined: plain gRPC (a dev server on loopback). */
  tls: TemporalTls | undefined;
  /** TEMPORAL_API_KEY, sent as `Authorization: Bearer`; a function, so that a printed config never shows it. */
  apiKey: (() => string) | undefined;
  /** SEVSYNC_ENCRYPT_PAYLOADS: workflow payloads and failure messages AES-256-GCM encrypted with the keyring. */
  encryptPayloads: boolean;
  /** SEVSYNC_CODEC_CORS_ORIGIN: the Temporal UI origin allowed to call the codec endpoint (/codec). */
  codecCorsOrigin: string | undefined;
}

/** What both Connection.connect (client) and NativeConnection.connect (worker) take. */
export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
}

const flag = z.enum(['0', '1', 'false', 'true']).optional();
const path = z.string().min(1).optional();
const isOn = (v: string | undefined) => v === '1' || v === 'true';

const SettingsSchema = z
  .object({
    TEMPORAL_TLS: flag,
    TEMPORAL_TLS_CERT: path,
    TEMPORAL_TLS_KEY: path,
    TEMPORAL_TLS_CA: path,
    TEMPORAL_TLS_SERVER_NAME: z
      .string()
      .regex(/^[A-Za-z0-9.-]{1,253}$/, 'must be a host name')
      .optional(),
    // A secret: every message names the variable only, never the value.
    TEMPORAL_API_KEY: z
      .string()
      .refine((v) => /^\S+$/.test(v), 'must be one line without spaces (the key alone, no "Bearer")')
      .optional(),
    SEVSYNC_ENCRYPT_PAYLOADS: flag,
    SEVSYNC_CODEC_CORS_ORIGIN: z
      .string()
      .refine(isOrigin, 'must be an origin such as https://temporal-ui.example.com (no path)')
      .optional(),
  })
  .superRefine((v, ctx) => {
    const issue = (key: string, message: string) => ctx.addIssue({ code: 'custom', path: [key], message });
    if (v.TEMPORAL_TLS_KEY && !v.TEMPORAL_TLS_CERT)
      issue('TEMPORAL_TLS_KEY', 'is set without TEMPORAL_TLS_CERT: mTLS needs the certificate and its key');
    if (v.TEMPORAL_TLS_CERT && !v.TEMPORAL_TLS_KEY)
      issue('TEMPORAL_TLS_CERT', 'is set without TEMPORAL_TLS_KEY: mTLS needs the certificate and its key');
    const off = v.TEMPORAL_TLS === '0' || v.TEMPORAL_TLS === 'false';
    for (const key of ['TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_CA', 'TEMPORAL_TLS_SERVER_NAME'] as const)
      if (off && v[key]) issue(key, `needs TLS, but TEMPORAL_TLS=${v.TEMPORAL_TLS}`);
    if (off && v.TEMPORAL_API_KEY)
      issue('TEMPORAL_API_KEY', `is only sent over TLS, but TEMPORAL_TLS=${v.TEMPORAL_TLS}`);
  });

function isOrigin(v: string): boolean {
  try {
    const url = new URL(v);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === v.replace(/\/$/, '');
  } catch {
    return false;
  }
}

type ErrorClass = new (message: string) => Error;

/**
 * The Temporal connection and payload settings of `env`; `Err` is the error thrown for a broken config (the
 * caller's ConfigError), with one line per problem as loadConfig writes them.
 */
export function parseTemporalSettings(env: NodeJS.ProcessEnv, Err: ErrorClass): TemporalSettings {
  const relevant = Object.fromEntries(
    Object.keys(SettingsSchema.shape).map((k) => [k, env[k] === '' ? undefined : env[k]]),
  );
  const parsed = SettingsSchema.safeParse(relevant);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Err(`invalid configuration:\n${lines.join('\n')}`);
  }
  const v = parsed.data;
  if (isOn(v.SEVSYNC_ENCRYPT_PAYLOADS) && !hasSecretKey(env)) {
    throw new Err(
      'invalid configuration:\n  SEVSYNC_ENCRYPT_PAYLOADS: payloads are encrypted with the secret key, and none is ' +
        'set: set SEVSYNC_SECRET_KEY (openssl rand -base64 32), SEVSYNC_SECRET_KEY_FILE or SEVSYNC_SECRET_KEYS',
    );
  }
  const apiKey = v.TEMPORAL_API_KEY;
  const wantsTls =
    isOn(v.TEMPORAL_TLS) ||
    [v.TEMPORAL_TLS_CERT, v.TEMPORAL_TLS_CA, v.TEMPORAL_TLS_SERVER_NAME, apiKey].some(Boolean);
  return {
    tls: wantsTls
      ? readTls(
          {
            certPath: v.TEMPORAL_TLS_CERT,
            keyPath: v.TEMPORAL_TLS_KEY,
            caPath: v.TEMPORAL_TLS_CA,
            serverName: v.TEMPORAL_TLS_SERVER_NAME,
          },
          Err,
        )
      : undefined,
    apiKey: apiKey === undefined ? undefined : () => apiKey,
    encryptPayloads: isOn(v.SEVSYNC_ENCRYPT_PAYLOADS),
    codecCorsOrigin: v.SEVSYNC_CODEC_CORS_ORIGIN?.replace(/\/$/, ''),
  };
}

const hasSecretKey = (env: NodeJS.ProcessEnv) =>
  ['SEVSYNC_SECRET_KEY', 'SEVSYNC_SECRET_KEY_FILE', 'SEVSYNC_SECRET_KEYS'].some((k) => Boolean(env[k]));

/** Reads and checks the PEM files; messages name the variable and the path, never a file's content. */
function readTls(paths: Omit<TemporalTls, 'config'>, Err: ErrorClass): TemporalTls {
  const read = (variable: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      const code = err instanceof Error && 'code' in err ? String(err.code) : 'unreadable';
      throw new Err(`invalid configuration:\n  ${variable}: cannot read ${file} (${code})`);
    }
  };
  const config: TLSConfig = {};
  if (paths.caPath) {
    const ca = read('TEMPORAL_TLS_CA', paths.caPath);
    certificate(ca, `TEMPORAL_TLS_CA: ${paths.caPath}`, Err);
    config.serverRootCACertificate = ca;
  }
  if (paths.certPath && paths.keyPath) {
    const crt = read('TEMPORAL_TLS_CERT', paths.certPath);
    const key = read('TEMPORAL_TLS_KEY', paths.keyPath);
    checkPair(crt, key, paths as { certPath: string; keyPath: string }, Err);
    config.clientCertPair = { crt, key };
  }
  if (paths.serverName) config.serverNameOverride = paths.serverName;
  return { ...paths, config };
}

function certificate(pem: Buffer, what: string, Err: ErrorClass): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new Err(`invalid configuration:\n  ${what} is not a PEM certificate`);
  }
}

/** The certificate parses, the key is an unencrypted PEM private key, and the key belongs to the certificate. */
function checkPair(
  crt: Buffer,
  key: Buffer,
  p: { certPath: string; keyPath: string },
  Err: ErrorClass,
): void {
  const cert = certificate(crt, `TEMPORAL_TLS_CERT: ${p.certPath}`, Err);
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new Err(
      `invalid configuration:\n  TEMPORAL_TLS_KEY: ${p.keyPath} is not an unencrypted PEM private key`,
    );
  }
  if (!cert.checkPrivateKey(privateKey)) {
    throw new Err(
      `invalid configuration:\n  TEMPORAL_TLS_KEY: ${p.keyPath} is not the key of the certificate in ` +
        `TEMPORAL_TLS_CERT (${p.certPath})`,
    );
  }
}

/** The connection options of both kinds of connection: the address, TLS and the API key when configured. */
export function temporalConnectionOptions(
  address: string,
  settings: TemporalSettings | undefined,
): TemporalConnectionOptions {
  return {
    address,
    ...(settings?.tls ? { tls: settings.tls.config } : {}),
    ...(settings?.apiKey ? { apiKey: settings.apiKey() } : {}),
  };
}

/** The environment that gives a child process the same settings (configEnv). */
export function temporalEnv(settings: TemporalSettings | undefined): Record<string, string> {
  if (!settings) return {};
  const tls = settings.tls;
  const entries: [string, string | undefined][] = [
    ['TEMPORAL_TLS', tls ? '1' : undefined],
    ['TEMPORAL_TLS_CERT', tls?.certPath],
    ['TEMPORAL_TLS_KEY', tls?.keyPath],
    ['TEMPORAL_TLS_CA', tls?.caPath],
    ['TEMPORAL_TLS_SERVER_NAME', tls?.serverName],
    ['TEMPORAL_API_KEY', settings.apiKey?.()],
    ['SEVSYNC_ENCRYPT_PAYLOADS', settings.encryptPayloads ? '1' : '0'],
    ['SEVSYNC_CODEC_CORS_ORIGIN', settings.codecCorsOrigin],
  ];
  return Object.fromEntries(entries.filter((e): e is [string, string] => e[1] !== undefined));
}

/** How the connection is secured, for messages (no secret in it). */
export function describeTemporalSecurity(settings: TemporalSettings | undefined): string {
  if (!settings?.tls) return 'plain gRPC';
  const parts = [settings.tls.certPath ? 'mTLS' : 'TLS'];
  if (settings.apiKey) parts.push('API key');
  if (settings.tls.caPath) parts.push(`CA ${settings.tls.caPath}`);
  if (settings.tls.serverName) parts.push(`server name ${settings.tls.serverName}`);
  return parts.join(', ');
}
