import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseBaseUrl } from './app/base-url';
import { DEFAULT_INVOICE_URL, parseInvoiceUrlTemplate } from './domain/dunning';
import type { MigrationSettings } from './db/roles';
import { parseMigrationSettings } from './db/roles';
import type { Keyring, SecretKey } from './secrets';
import { createKeyring, keyId } from './secrets';
import type { TemporalSettings } from './temporal/connection';
import { parseTemporalSettings, temporalEnv } from './temporal/connection';
import type { WorkerQueue } from './worker/queues';
import { WORKER_QUEUES, parseWorkerQueues } from './worker/queues';

const secretKey = z
  .string()
  .refine(
    (v) => Buffer.from(v, 'base64').length === 32,
    'must be 32 bytes, base64-encoded (openssl rand -base64 32)',
  );

/** `id1:base64,id2:base64`: the first key encrypts, all of them decrypt (key rotation). */
const secretKeyList = z.string().transform((v, ctx) => {
  const keys: SecretKey[] = [];
  for (const [n, part] of v
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .entries()) {
    const m = /^([A-Za-z0-9_.-]{1,32}):(.+)$/.exec(part);
    const key = m ? Buffer.from(m[2]!, 'base64') : undefined;
    if (!m || key?.length !== 32) {
      // The value is a secret: name the position, never echo it.
      ctx.addIssue({
        code: 'custom',
        message: `entry ${n + 1} must be id:key with a 32-byte base64 key (openssl rand -base64 32)`,
      });
      return z.NEVER;
    }
    if (keys.some((k) => k.id === m[1])) {
      ctx.addIssue({ code: 'custom', message: `key id ${m[1]} appears twice` });
      return z.NEVER;
    }
    keys.push({ id: m[1]!, key });
  }
  if (keys.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'must list at least one id:key' });
    return z.NEVER;
  }
  return keys;
});

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
  SEVSYNC_SECRET_KEYS: secretKeyList.optional(),
  SEVDESK_BASE_URL: z
    .string()
    .default('https://my.sevdesk.de/api/v1')
    .superRefine((v, ctx) => {
      const r = parseBaseUrl(v);
      if (!r.ok) ctx.addIssue({ code: 'custom', message: r.reason });
    }),
  SEVSYNC_SYNC_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
  SEVSYNC_SEVDESK_INVOICE_URL: z
    .string()
    .default(DEFAULT_INVOICE_URL)
    .superRefine((v, ctx) => {
      const r = parseInvoiceUrlTemplate(v);
      if (!r.ok) ctx.addIssue({ code: 'custom', message: r.reason });
    }),
  // The change feed and its webhooks.
  SEVSYNC_EVENT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3_650).default(90),
  SEVSYNC_WEBHOOK_TASK_QUEUE: z.string().min(1).default('sevsync-webhooks'),
  SEVSYNC_WEBHOOK_GIVE_UP_HOURS: z.coerce
    .number()
    .min(0.01)
    .max(24 * 30)
    .default(72),
  SEVSYNC_WEBHOOK_ALLOW_PRIVATE: z.enum(['0', '1', 'false', 'true']).default('0'),
  SEVSYNC_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  // Operations (the worker process); every one has a production default.
  SEVSYNC_SECRET_KEY_FILE: z.string().min(1).optional(),
  SEVSYNC_DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(60_000),
  SEVSYNC_WORKER_HTTP_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  SEVSYNC_WORKER_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  SEVSYNC_WORKER_QUEUES: z
    .string()
    .default(WORKER_QUEUES.join(','))
    .transform((v, ctx) => {
      const r = parseWorkerQueues(v);
      if (r.ok) return r.queues;
      ctx.addIssue({ code: 'custom', message: r.reason });
      return z.NEVER;
    }),
  SEVSYNC_METRICS_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters (openssl rand -hex 32)')
    .optional(),
  SEVSYNC_METRICS_PER_ACCOUNT: z.enum(['0', '1', 'false', 'true']).default('0'),
  SEVSYNC_WORKFLOW_BUNDLE: z.string().min(1).optional(),
  SEVSYNC_SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(0).max(3_600).default(60),
  SEVSYNC_SEVDESK_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(16),
  SEVSYNC_IMPORT_WINDOW: z.coerce.number().int().min(1).max(16).default(4),
  SEVSYNC_IMPORT_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(4),
  SEVSYNC_DB_COUNT_STATEMENTS: z.enum(['0', '1', 'false', 'true']).default('0'),
  SEVSYNC_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(1_000_000).optional(),
  SEVSYNC_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(2).max(10_000).default(40),
  SEVSYNC_WORKFLOW_THREADS: z.coerce.number().int().min(1).max(16).default(2),
  // Read by the patched SDK itself (patches/@temporalio+worker+*.patch) when the workflow thread starts;
  // checked here so that a typo is a config error, not silently off.
  SEVSYNC_WORKFLOW_STACK_TRACES: z.enum(['on', 'off']).default('off'),
  SEVSYNC_LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  SEVSYNC_LOG_LEVEL: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
});

/** How the worker process runs; see README "Running it for real". */
export interface OpsConfig {
  /** PostgreSQL statement_timeout (and idle_in_transaction_session_timeout) in ms; 0 disables. */
  statementTimeoutMs: number;
  /** /healthz, /readyz and /metrics; undefined: no HTTP listener. */
  workerHttpPort: number | undefined;
  workerHttpHost: string;
  /** The task queues `sevsync worker` serves (`--queues`, SEVSYNC_WORKER_QUEUES); default all three. */
  workerQueues: WorkerQueue[];
  /** A prebuilt workflow bundle (`npm run build:workflows`); undefined: bundle at start. */
  workflowBundlePath: string | undefined;
  /** How long a deploy lets running activities (the current page) finish before cancelling them. */
  shutdownGraceSeconds: number;
  /** sevDesk requests in flight per worker process, all accounts together. */
  sevdeskWorkerConcurrency: number;
  /**
   * Pages of one import in flight: fetched ahead of the page being written (1: one page at a time). The
   * sevDesk client's per-token limit (4 requests) still holds, so more than 4 only queues.
   */
  importWindow: number;
  /** Walk activities (import and reconcile pages) a worker runs at once, on the import task queue. */
  importConcurrency: number;
  /**
   * Workflows the worker keeps in memory between their tasks (undefined: the SDK's default, sized from the
   * heap, about 360 at 768 MB). Accounts fall due one after another, so a cache smaller than the worker's
   * accounts finds almost none of them: the least recently used one it evicts is always the next one due,
   * which then replays its run's history (about twice the worker CPU of a cached cycle). Each cached account
   * costs about 200 KB of RSS. 0 turns the cache off.
   */
  maxCachedWorkflows: number | undefined;
  /**
   * Workflow tasks the worker runs at once (the SDK's 40 by default). A quick sync holds its task's slot
   * while its local activity runs: with many accounts falling due together, tasks otherwise wait on the
   * server for a free slot.
   */
  maxConcurrentWorkflowTasks: number;
  /**
   * Threads that run workflow tasks (the SDK's workflowThreadPoolSize, whose default is 1 with its reused V8
   * context). Each has its own V8 isolate and bundle; workflows are pinned to one, the cache limit is the
   * worker's. Every cycle of an account that is not cached replays its run on one of them, so with more
   * accounts than the cache holds one thread is the bottleneck (figures in bench/README.md).
   */
  workflowThreads: number;
  /** Count SQL statements for /metrics (a benchmark diagnostic: driver errors then carry their parameters). */
  countStatements: boolean;
  /**
   * /metrics: with a token it asks for `Authorization: Bearer <token>`, without one it is served on a loopback
   * address only; series carry the account (and webhook endpoint) label only when `perAccount` is set.
   */
  metrics: { token: string | undefined; perAccount: boolean };
  logFormat: 'auto' | 'json' | 'pretty';
  logLevel: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}

/**
 * Cached account workflows: 1,000 leave room in the deployed worker (1 GiB container, 768 MB heap) at any
 * account count; 2,000 did not at 10,000 accounts (bench/README.md has the figures).
 */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 1000;

export const DEFAULT_OPS: OpsConfig = {
  statementTimeoutMs: 60_000,
  workerHttpPort: undefined,
  workerHttpHost: '127.0.0.1',
  workerQueues: [...WORKER_QUEUES],
  workflowBundlePath: undefined,
  shutdownGraceSeconds: 60,
  sevdeskWorkerConcurrency: 16,
  importWindow: 4,
  importConcurrency: 4,
  maxCachedWorkflows: DEFAULT_MAX_CACHED_WORKFLOWS,
  maxConcurrentWorkflowTasks: 40,
  workflowThreads: 2,
  countStatements: false,
  metrics: { token: undefined, perAccount: false },
  logFormat: 'auto',
  logLevel: 'INFO',
};

export interface Config {
  databaseUrl: string;
  temporalAddress: string;
  temporalNamespace: string;
  taskQueue: string;
  /** The key that encrypts tokens; absent only for commands that never touch tokens (e.g. migrate). */
  secretKey: Buffer | undefined;
  /** Every configured key, the encrypting one first (SEVSYNC_SECRET_KEYS, then SEVSYNC_SECRET_KEY). */
  secretKeys?: SecretKey[];
  sevdeskBaseUrl: string;
  syncIntervalSeconds: number;
  /** The link into sevDesk per invoice: `{invoiceType}` and `{id}` filled in, URL-encoded (https only). */
  sevdeskInvoiceUrl?: string;
  /** Worker-process settings; optional so hand-built configs (tests) may leave them to DEFAULT_OPS. */
  ops?: OpsConfig;
  /** The change feed and webhook delivery; optional like `ops` (DEFAULT_EVENTS). */
  events?: EventsConfig;
  /** How `migrate` connects and which runtime role it grants (docs/deploys.md, "Database roles"). */
  migration?: MigrationSettings;
  /** TLS, API key and payload encryption of the Temporal connections (docs/temporal.md); absent: none. */
  temporal?: TemporalSettings;
}

/** The change feed's retention and how webhooks are delivered (README, "Change feed and webhooks"). */
export interface EventsConfig {
  /** Events older than this are removed; a cursor older than what is kept gets 410. */
  retentionDays: number;
  /** The task queue of the delivery workflows (one per endpoint), apart from the sync's. */
  webhookTaskQueue: string;
  /** An endpoint that has failed for this long is disabled (until enabled again, which resumes it). */
  webhookGiveUpHours: number;
  /** Deliver to private networks (10/8, 172.16/12, 192.168/16, link-local, fc00::/7): off by default. */
  webhookAllowPrivate: boolean;
  /** Per delivery: connect, send and an answer's headers and body, in ms. */
  webhookTimeoutMs: number;
}

export const DEFAULT_EVENTS: EventsConfig = {
  retentionDays: 90,
  webhookTaskQueue: 'sevsync-webhooks',
  webhookGiveUpHours: 72,
  webhookAllowPrivate: false,
  webhookTimeoutMs: 10_000,
};

/** The environment that gives a child process (a worker started by a test or bench) this config's core. */
export function configEnv(config: Config): Record<string, string> {
  return {
    DATABASE_URL: config.databaseUrl,
    TEMPORAL_ADDRESS: config.temporalAddress,
    TEMPORAL_NAMESPACE: config.temporalNamespace,
    SEVSYNC_TASK_QUEUE: config.taskQueue,
    ...(config.sevdeskInvoiceUrl ? { SEVSYNC_SEVDESK_INVOICE_URL: config.sevdeskInvoiceUrl } : {}),
    SEVSYNC_SECRET_KEY: config.secretKey?.toString('base64') ?? '',
    ...temporalEnv(config.temporal),
    // The same rule as the webhook use cases: without `events`, deliveries go to `<task queue>-webhooks`.
    SEVSYNC_WEBHOOK_TASK_QUEUE: config.events?.webhookTaskQueue ?? `${config.taskQueue}-webhooks`,
    // Only a migration URL of its own: one that merely repeats DATABASE_URL would outlive a changed databaseUrl.
    ...(config.migration && config.migration.databaseUrl !== config.databaseUrl
      ? { SEVSYNC_MIGRATION_DATABASE_URL: config.migration.databaseUrl }
      : {}),
    ...(config.migration?.appRole ? { SEVSYNC_DB_APP_ROLE: config.migration.appRole } : {}),
    ...(config.events
      ? {
          SEVSYNC_EVENT_RETENTION_DAYS: String(config.events.retentionDays),
          SEVSYNC_WEBHOOK_GIVE_UP_HOURS: String(config.events.webhookGiveUpHours),
          SEVSYNC_WEBHOOK_ALLOW_PRIVATE: config.events.webhookAllowPrivate ? '1' : '0',
          SEVSYNC_WEBHOOK_TIMEOUT_MS: String(config.events.webhookTimeoutMs),
        }
      : {}),
    ...(config.ops ? { SEVSYNC_METRICS_PER_ACCOUNT: config.ops.metrics.perAccount ? '1' : '0' } : {}),
    ...(config.ops?.metrics.token ? { SEVSYNC_METRICS_TOKEN: config.ops.metrics.token } : {}),
  };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses the environment once at an entrypoint; errors name the variable. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const relevant = Object.fromEntries(
    Object.keys(ConfigSchema.shape).map((k) => [k, env[k] === '' ? undefined : env[k]]),
  );
  readSecretKeyFile(relevant);
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
    ...secretKeys(c.SEVSYNC_SECRET_KEYS, c.SEVSYNC_SECRET_KEY),
    sevdeskBaseUrl: c.SEVDESK_BASE_URL.replace(/\/+$/, ''),
    syncIntervalSeconds: c.SEVSYNC_SYNC_INTERVAL_SECONDS,
    sevdeskInvoiceUrl: c.SEVSYNC_SEVDESK_INVOICE_URL.trim(),
    migration: parseMigrationSettings(env, c.DATABASE_URL),
    temporal: parseTemporalSettings(env, ConfigError),
    events: {
      retentionDays: c.SEVSYNC_EVENT_RETENTION_DAYS,
      webhookTaskQueue: c.SEVSYNC_WEBHOOK_TASK_QUEUE,
      webhookGiveUpHours: c.SEVSYNC_WEBHOOK_GIVE_UP_HOURS,
      webhookAllowPrivate:
        c.SEVSYNC_WEBHOOK_ALLOW_PRIVATE === '1' || c.SEVSYNC_WEBHOOK_ALLOW_PRIVATE === 'true',
      webhookTimeoutMs: c.SEVSYNC_WEBHOOK_TIMEOUT_MS,
    },
    ops: {
      statementTimeoutMs: c.SEVSYNC_DB_STATEMENT_TIMEOUT_MS,
      workerHttpPort: c.SEVSYNC_WORKER_HTTP_PORT,
      workerHttpHost: c.SEVSYNC_WORKER_HTTP_HOST,
      workerQueues: c.SEVSYNC_WORKER_QUEUES,
      workflowBundlePath: c.SEVSYNC_WORKFLOW_BUNDLE,
      shutdownGraceSeconds: c.SEVSYNC_SHUTDOWN_GRACE_SECONDS,
      sevdeskWorkerConcurrency: c.SEVSYNC_SEVDESK_WORKER_CONCURRENCY,
      importWindow: c.SEVSYNC_IMPORT_WINDOW,
      importConcurrency: c.SEVSYNC_IMPORT_CONCURRENCY,
      maxCachedWorkflows: c.SEVSYNC_MAX_CACHED_WORKFLOWS ?? DEFAULT_MAX_CACHED_WORKFLOWS,
      maxConcurrentWorkflowTasks: c.SEVSYNC_MAX_CONCURRENT_WORKFLOW_TASKS,
      workflowThreads: c.SEVSYNC_WORKFLOW_THREADS,
      countStatements: c.SEVSYNC_DB_COUNT_STATEMENTS === '1' || c.SEVSYNC_DB_COUNT_STATEMENTS === 'true',
      metrics: {
        token: c.SEVSYNC_METRICS_TOKEN,
        perAccount: c.SEVSYNC_METRICS_PER_ACCOUNT === '1' || c.SEVSYNC_METRICS_PER_ACCOUNT === 'true',
      },
      logFormat: c.SEVSYNC_LOG_FORMAT,
      logLevel: c.SEVSYNC_LOG_LEVEL,
    },
  };
}

/**
 * SEVSYNC_SECRET_KEY_FILE (compose/Kubernetes secrets): the key is read from that file when
 * SEVSYNC_SECRET_KEY is not set. Messages name the path, never the content.
 */
function readSecretKeyFile(relevant: Record<string, string | undefined>): void {
  const file = relevant['SEVSYNC_SECRET_KEY_FILE'];
  if (!file) return;
  if (relevant['SEVSYNC_SECRET_KEY']) {
    throw new ConfigError('set SEVSYNC_SECRET_KEY or SEVSYNC_SECRET_KEY_FILE, not both');
  }
  try {
    relevant['SEVSYNC_SECRET_KEY'] = readFileSync(file, 'utf8').trim();
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : 'unreadable';
    throw new ConfigError(`SEVSYNC_SECRET_KEY_FILE: cannot read ${file} (${code})`);
  }
}

function secretKeys(
  list: SecretKey[] | undefined,
  single: string | undefined,
): Pick<Config, 'secretKey' | 'secretKeys'> {
  const keys = [...(list ?? [])];
  if (single) {
    const key = Buffer.from(single, 'base64');
    // SEVSYNC_SECRET_KEY alone encrypts; next to SEVSYNC_SECRET_KEYS it is one more key that decrypts.
    if (!keys.some((k) => k.key.equals(key))) keys.push({ id: keyId(key), key });
  }
  return { secretKey: keys[0]?.key, secretKeys: keys };
}

const MISSING_KEY =
  'SEVSYNC_SECRET_KEY is not set: it must be 32 bytes, base64-encoded (openssl rand -base64 32); ' +
  'or set SEVSYNC_SECRET_KEYS=id:key,... for key rotation';

export function requireSecretKey(config: Config): Buffer {
  if (!config.secretKey) throw new ConfigError(MISSING_KEY);
  return config.secretKey;
}

/** The keys that encrypt and decrypt stored tokens; the first one encrypts. */
export function requireKeyring(config: Config): Keyring {
  const keys = config.secretKeys?.length
    ? config.secretKeys
    : config.secretKey
      ? [{ id: keyId(config.secretKey), key: config.secretKey }]
      : [];
  if (keys.length === 0) throw new ConfigError(MISSING_KEY);
  // secretKey is the encrypting key even when a test builds a Config by hand with both fields.
  const first = config.secretKey ? keys.find((k) => k.key.equals(config.secretKey!)) : undefined;
  return createKeyring(first ? [first, ...keys.filter((k) => k !== first)] : keys);
}
