import { z } from 'zod';

const secretKey = z
  .string()
  .refine(
    (v) => Buffer.from(v, 'base64').length === 32,
    'must be 32 bytes, base64-encoded (openssl rand -base64 32)',
  );

const ConfigSchema = z.object({
  DATABASE_URL: z
    .string()
    .default('postgres://postgres@127.0.0.1:5432/sevsync')
    .refine((v) => /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// URL'),
  TEMPORAL_ADDRESS: z
    .string()
    .default('127.0.0.1:7233')
    .refine((v) => /^[^\s:/]+:\d{1,5}$/.test(v), 'must be host:port'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  SEVSYNC_TASK_QUEUE: z.string().min(1).default('sevsync'),
  SEVSYNC_SECRET_KEY: secretKey.optional(),
  SEVDESK_BASE_URL: z.url({ protocol: /^https?$/ }).default('https://my.sevdesk.de/api/v1'),
  SEVSYNC_SYNC_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
});

export interface Config {
  databaseUrl: string;
  temporalAddress: string;
  temporalNamespace: string;
  taskQueue: string;
  /** Absent only for commands that never touch tokens (e.g. migrate). */
  secretKey: Buffer | undefined;
  sevdeskBaseUrl: string;
  syncIntervalSeconds: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses the environment once at an entrypoint; errors name the variable. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const relevant = Object.fromEntries(
    Object.keys(ConfigSchema.shape).map((k) => [k, env[k] === '' ? undefined : env[k]]),
  );
  const parsed = ConfigSchema.safeParse(relevant);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  return {
    databaseUrl: c.DATABASE_URL,
    temporalAddress: c.TEMPORAL_ADDRESS,
    temporalNamespace: c.TEMPORAL_NAMESPACE,
    taskQueue: c.SEVSYNC_TASK_QUEUE,
    secretKey: c.SEVSYNC_SECRET_KEY ? Buffer.from(c.SEVSYNC_SECRET_KEY, 'base64') : undefined,
    sevdeskBaseUrl: c.SEVDESK_BASE_URL.replace(/\/+$/, ''),
    syncIntervalSeconds: c.SEVSYNC_SYNC_INTERVAL_SECONDS,
  };
}

export function requireSecretKey(config: Config): Buffer {
  if (!config.secretKey) {
    throw new ConfigError(
      'SEVSYNC_SECRET_KEY is not set: it must be 32 bytes, base64-encoded (openssl rand -base64 32)',
    );
  }
  return config.secretKey;
}
