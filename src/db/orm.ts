import { drizzle } from 'drizzle-orm/postgres-js';
import type { Db, Sql } from './client';
import * as schema from './schema';

const orms = new WeakMap<Sql, Db>();

/**
 * drizzle's typed query builder over a postgres.js client (one per client; createDb already set drizzle's
 * parsers up on it). The query modules take the plain client, so activities and use cases share them.
 */
export function orm(sql: Sql): Db {
  let db = orms.get(sql);
  if (!db) {
    db = drizzle(sql, { schema });
    orms.set(sql, db);
  }
  return db;
}
