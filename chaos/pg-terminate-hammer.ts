// `npx tsx chaos/pg-terminate-hammer.ts [--seconds N] [--hang-ms N] [--driver DIR]`: what the campaign's
// "pg-terminate" fault does to the PostgreSQL driver, without the rest of sevsync. A child process runs small
// queries on a postgres.js pool while this process terminates their backends; every query must settle
// (resolve or reject) and the child must survive. Unpatched postgres.js 3.4.9 does neither reliably: the
// child dies of a TypeError in `nextWrite` (porsager/postgres#1154, #1208) or of an unhandled 57P01
// rejection (the type fetch after connect), or a query never settles. patches/postgres+3.4.9.patch fixes
// all three; `--driver DIR` loads postgres.js from another folder (e.g. an unpatched copy) to compare.
// Exit 0: survived; 1: the child crashed; 3: a query hung.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { createDatabase, dropDatabase } from './database';

const ADMIN_URL = process.env.SEVSYNC_CHAOS_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const VICTIM = 'sevsync-chaos-hammer';
const HUNG = 3;

/** The victim: queries in rounds of 8, each round after its backends were terminated must settle. */
async function victim(url: string, seconds: number, hangMs: number, driver?: string): Promise<number> {
  // A folder holding a postgres.js package (its package.json `main`), loaded as CommonJS like the real one.
  const connect = driver ? (createRequire(__filename)(path.resolve(driver)) as typeof postgres) : postgres;
  const sql = connect(url, { max: 4, onnotice: () => {}, connection: { application_name: VICTIM } });
  const until = Date.now() + seconds * 1000;
  let rejected = 0;
  let round = 0;
  for (; Date.now() < until; round++) {
    const load = Array.from({ length: 8 }, () =>
      sql`select pg_sleep(0.005), ${round}::int as round`.then(
        () => undefined,
        () => void (rejected += 1),
      ),
    );
    const settled = await Promise.race([
      Promise.all(load).then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), hangMs).unref()),
    ]);
    if (!settled) {
      console.log(`a query did not settle within ${hangMs} ms (round ${round})`);
      return HUNG;
    }
  }
  console.log(`survived ${round} rounds; ${rejected} queries rejected (expected: their backend died)`);
  await sql.end({ timeout: 1 });
  return 0;
}

/** This process: the database, the child, and a terminate of the child's sessions every few ms. */
async function hammer(seconds: number, hangMs: number, driver?: string): Promise<number> {
  const name = `sevsync_chaos_hammer_${randomBytes(4).toString('hex')}`;
  const url = await createDatabase(ADMIN_URL, name);
  const killer = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const child = spawn(
      process.execPath,
      [
        ...process.execArgv,
        __filename,
        '--victim',
        url,
        '--seconds',
        String(seconds),
        '--hang-ms',
        String(hangMs),
        ...(driver ? ['--driver', driver] : []),
      ],
      { stdio: 'inherit' },
    );
    const exited = new Promise<number>((r) => child.once('exit', (code) => r(code ?? 1)));
    let done = false;
    void exited.then(() => (done = true));
    while (!done) {
      // Only this database's sessions, and only the victim's.
      await killer`
        select pg_terminate_backend(pid) from pg_stat_activity
        where datname = current_database() and application_name = ${VICTIM}`;
      await new Promise((r) => setTimeout(r, 2 + Math.random() * 8));
    }
    const code = await exited;
    if (code !== 0 && code !== HUNG) console.log(`the victim process crashed (exit code ${code})`);
    return code === HUNG ? HUNG : code === 0 ? 0 : 1;
  } finally {
    await killer.end({ timeout: 1 });
    await dropDatabase(ADMIN_URL, name);
  }
}

const { values } = parseArgs({
  options: {
    victim: { type: 'string' },
    seconds: { type: 'string' },
    'hang-ms': { type: 'string' },
    driver: { type: 'string' },
  },
});
const seconds = Number(values.seconds ?? 20);
const hangMs = Number(values['hang-ms'] ?? 30_000);
(values.victim
  ? victim(values.victim, seconds, hangMs, values.driver)
  : hammer(seconds, hangMs, values.driver)
).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
