// Who may do what in sevsync's database (docs/deploys.md, "Database roles"): migrations run as a role that
// owns the tables; the worker and the server run as a runtime role that reads and writes rows, runs the
// functions, and changes no schema.
import type { Sql } from './client';

/** How `sevsync migrate` connects, and whom it grants the runtime privileges. */
export interface MigrationSettings {
  /** SEVSYNC_MIGRATION_DATABASE_URL, else DATABASE_URL. */
  databaseUrl: string;
  /**
   * The runtime role: SEVSYNC_DB_APP_ROLE, else the user of DATABASE_URL when the migration URL names another
   * user; undefined: one role does both (it owns what it migrates, nothing to grant).
   */
  appRole: string | undefined;
}

const userOf = (url: string): string => {
  try {
    return decodeURIComponent(new URL(url).username);
  } catch {
    return '';
  }
};

/** Reads SEVSYNC_MIGRATION_DATABASE_URL and SEVSYNC_DB_APP_ROLE; errors name the variable. */
export function parseMigrationSettings(env: NodeJS.ProcessEnv, databaseUrl: string): MigrationSettings {
  const url = env['SEVSYNC_MIGRATION_DATABASE_URL']?.trim() || undefined;
  const role = env['SEVSYNC_DB_APP_ROLE']?.trim() || undefined;
  const problems: string[] = [];
  if (url !== undefined && !/^postgres(ql)?:\/\//.test(url))
    problems.push('SEVSYNC_MIGRATION_DATABASE_URL: must be a postgres:// URL');
  if (role !== undefined && (role.length > 63 || role.includes('\0')))
    problems.push('SEVSYNC_DB_APP_ROLE: must be a PostgreSQL role name (at most 63 characters)');
  if (problems.length > 0) throw new Error(`invalid configuration:\n  ${problems.join('\n  ')}`);
  const runtimeUser = userOf(databaseUrl);
  const derived =
    url !== undefined && runtimeUser !== '' && runtimeUser !== userOf(url) ? runtimeUser : undefined;
  return { databaseUrl: url ?? databaseUrl, appRole: role ?? derived };
}

export interface GrantResult {
  role: string;
  /** What could not be set up as it should (the migration itself succeeded). */
  warnings: string[];
}

/**
 * Gives the runtime role what the worker and the server need, and nothing that changes the schema: CONNECT
 * on the database, USAGE (never CREATE) on the schema, SELECT/INSERT/UPDATE/DELETE on every table, USAGE on
 * the sequences, EXECUTE on the functions (also `sevsync_analyze`, which runs ANALYZE as the owner), and the
 * same by default on what later migrations create. Run by the migrating role after each migrate; idempotent.
 */
export async function grantRuntimeRole(sql: Sql, role: string): Promise<GrantResult> {
  const [here] = await sql<{ me: string; schema: string; db: string; found: boolean }[]>`
    select current_user as me, current_schema() as schema, current_database() as db,
      exists (select 1 from pg_roles where rolname = ${role}) as found`;
  if (!here) throw new Error('cannot read the current user');
  if (!here.found)
    throw new Error(
      `the runtime role "${role}" does not exist: create it first (CREATE ROLE ... LOGIN PASSWORD ...), ` +
        'or set SEVSYNC_DB_APP_ROLE to the role the worker connects as',
    );
  const warnings: string[] = [];
  if (role === here.me) return { role, warnings };
  const r = sql(role);
  const s = sql(here.schema);
  const [can] = await sql<{ connect: boolean; usage: boolean }[]>`
    select has_database_privilege(${role}, ${here.db}, 'CONNECT') as connect,
      has_schema_privilege(${role}, ${here.schema}, 'USAGE') as usage`;
  // The database and the schema may belong to someone else (a DBA's setup): grant only what is missing.
  if (!can?.connect) await sql`grant connect on database ${sql(here.db)} to ${r}`;
  if (!can?.usage) await sql`grant usage on schema ${s} to ${r}`;
  await sql`grant select, insert, update, delete on all tables in schema ${s} to ${r}`;
  await sql`grant usage on all sequences in schema ${s} to ${r}`;
  await sql`grant execute on all functions in schema ${s} to ${r}`;
  await sql`alter default privileges in schema ${s} grant select, insert, update, delete on tables to ${r}`;
  await sql`alter default privileges in schema ${s} grant usage on sequences to ${r}`;
  await sql`alter default privileges in schema ${s} grant execute on functions to ${r}`;
  await sql`revoke create on schema ${s} from ${r}`;
  if (await mayCreate(sql, role, here.schema)) {
    // Before PostgreSQL 15 every role may create in `public`; the schema is sevsync's, so that goes.
    await sql`revoke create on schema ${s} from public`.catch((err: unknown) => {
      warnings.push(
        `could not revoke CREATE on schema ${here.schema} from PUBLIC: ${(err as Error).message}`,
      );
    });
    if (await mayCreate(sql, role, here.schema))
      warnings.push(
        `the runtime role "${role}" may still create objects in schema ${here.schema} ` +
          '(it owns the schema or is a member of a role that may): give it a role of its own',
      );
  }
  return { role, warnings };
}

const mayCreate = async (sql: Sql, role: string, schema: string): Promise<boolean> => {
  const [row] = await sql<{ create: boolean }[]>`
    select has_schema_privilege(${role}, ${schema}, 'CREATE') as create`;
  return row?.create ?? false;
};
