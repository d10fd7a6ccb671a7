// A database of its own, for a test that changes what every reader of the shared test database would see
// (retention removing events moves the global feed's "gone" mark for every cursor).
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import postgres from 'postgres';
import type { DbHandle } from '../../src/db/client';
import { createDb } from '../../src/db/client';
import { migrateDatabase } from '../../src/db/migrate';

export interface PrivateDb extends DbHandle {
  url: string;
  drop(): Promise<void>;
}

export async function privateDatabase(): Promise<PrivateDb> {
  const url = new URL(inject('adminDatabaseUrl'));
  const name = `sevsync_test_own_${randomBytes(4).toString('hex')}`;
  url.pathname = `/${name}`;
  await migrateDatabase(url.toString());
  const handle = createDb(url.toString(), { max: 4 });
  return {
    ...handle,
    url: url.toString(),
    drop: async () => {
      await handle.close();
      const admin = postgres(inject('adminDatabaseUrl'), { max: 1, onnotice: () => {} });
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end();
    },
  };
}
