import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';
import type { DbHandle } from '../db/client';
import { createDb } from '../db/client';
import type { SevdeskClient } from '../sevdesk/client';
import { createSevdeskClient } from '../sevdesk/client';
import { describeTemporalSecurity, temporalConnectionOptions } from '../temporal/connection';
import { temporalDataConverter } from '../temporal/data-converter';
import { AppError } from './errors';

/** What the use cases run on; everything is injected (tests and the HTTP server build their own). */
export interface AppDeps {
  config: Config;
  db: DbHandle;
  temporal: Client;
  /** A sevDesk client for one token (used here only to check a token before it is stored). */
  sevdesk: (opts: { baseUrl: string; token: string }) => SevdeskClient;
  close(): Promise<void>;
}

/**
 * Connects to PostgreSQL and Temporal with the configuration's addresses, TLS and API key; with payload
 * encryption on, the client encrypts what it sends and decrypts what it reads (docs/temporal.md).
 */
export async function connectApp(config: Config, opts: { dbPoolSize?: number } = {}): Promise<AppDeps> {
  // First: a missing key for SEVSYNC_ENCRYPT_PAYLOADS is a config error before anything is opened.
  const dataConverter = temporalDataConverter(config);
  const db = createDb(config.databaseUrl, { max: opts.dbPoolSize ?? 2 });
  let connection: Connection;
  try {
    connection = await Connection.connect({
      ...temporalConnectionOptions(config.temporalAddress, config.temporal),
      connectTimeout: '5s',
    });
  } catch (err) {
    await db.close();
    const security = describeTemporalSecurity(config.temporal);
    throw new AppError(
      'unavailable',
      `cannot reach the Temporal server at ${config.temporalAddress} (TEMPORAL_ADDRESS, ${security}): ` +
        `${(err as Error).message}. ` +
        (config.temporal?.tls ? 'Check the TEMPORAL_TLS_* settings.' : 'Start one with `npm run temporal`.'),
    );
  }
  const temporal = new Client({
    connection,
    namespace: config.temporalNamespace,
    ...(dataConverter ? { dataConverter } : {}),
  });
  return {
    config,
    db,
    temporal,
    sevdesk: ({ baseUrl, token }) => createSevdeskClient({ baseUrl, token, retry: { attempts: 2 } }),
    close: async () => {
      await db.close();
      await connection.close();
    },
  };
}
