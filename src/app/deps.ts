import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';
import type { DbHandle } from '../db/client';
import { createDb } from '../db/client';
import type { SevdeskClient } from '../sevdesk/client';
import { createSevdeskClient } from '../sevdesk/client';
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

/** Connects to PostgreSQL and Temporal with the configuration's addresses. */
export async function connectApp(config: Config, opts: { dbPoolSize?: number } = {}): Promise<AppDeps> {
  const db = createDb(config.databaseUrl, { max: opts.dbPoolSize ?? 2 });
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: config.temporalAddress, connectTimeout: '5s' });
  } catch (err) {
    await db.close();
    throw new AppError(
      'unavailable',
      `cannot reach the Temporal server at ${config.temporalAddress} (TEMPORAL_ADDRESS): ${(err as Error).message}. ` +
        'Start one with `npm run temporal`.',
    );
  }
  const temporal = new Client({ connection, namespace: config.temporalNamespace });
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
