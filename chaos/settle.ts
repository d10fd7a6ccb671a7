import type { Client } from '@temporalio/client';
import type { ImportStats } from '../src/activities/bulk-import';
import type { AppDeps } from '../src/app';
import { startImport, syncNow, waitForImport } from '../src/app';
import type { DbHandle } from '../src/db/client';
import type { AccountStatus } from '../src/shared';
import { accountEvents, lastSeq } from '../src/db/events';
import type { InvariantResult, Snapshot } from './invariants';
import { changedRows, snapshot } from './invariants';
import { sleep } from './processes';

// What runs once the faults stopped: waiting for the imports, the final sync-now, the workflow census and
// the re-run that must not write a row.

export const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    p,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms).unref(),
    ),
  ]);

export type StatusOf = (accountId: string) => Promise<AccountStatus>;

async function eventually<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await sleep(250);
  }
  throw new Error(`${what}: timed out after ${timeoutMs} ms${last ? ` (${String(last)})` : ''}`);
}

/** Waits for the account's current import (if any) to end; a failed import is a problem. */
export async function finishImports(ops: AppDeps, accountId: string, statusOf: StatusOf): Promise<string[]> {
  try {
    const current = () => eventually('status', 60_000, () => statusOf(accountId));
    /** Waits for a running or paused import to end; true if there was one. */
    const waited = async (st: Awaited<ReturnType<StatusOf>>): Promise<boolean> => {
      if (!st.import || (st.import.state !== 'running' && st.import.state !== 'paused')) return false;
      await withTimeout(
        waitForImport(ops, st.import.workflowId, () => {}),
        240_000,
        'import',
      );
      return true;
    };
    let s = await current();
    // A stopped import is what the user would start again ("Massenimport starten"): it resumes.
    for (let attempt = 0; s.import?.state === 'error' && attempt < 3; attempt += 1) {
      await startImport(ops, accountId, { dryRun: false, kind: s.import.kind ?? 'import' });
      s = await current();
      if (await waited(s)) s = await current();
    }
    await waited(s);
    const after = await eventually('import done', 60_000, async () => {
      const st = await statusOf(accountId);
      return st.import?.state === 'running' || st.import?.state === 'paused' ? undefined : st;
    });
    const st = after.import?.state;
    return st === 'failed' || st === 'error'
      ? [`import ${after.import?.importId} ${st}${after.import?.error ? `: ${after.import.error}` : ''}`]
      : [];
  } catch (err) {
    return [(err as Error).message];
  }
}

/** One sync-now that waits for its cycle; null when it was served. */
export async function finalSync(ops: AppDeps, accountId: string): Promise<string | null> {
  try {
    await eventually('sync-now', 240_000, () =>
      withTimeout(syncNow(ops, accountId, true), 120_000, 'sync-now').then(() => true),
    );
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

export async function workflowHealth(client: Client, accounts: number): Promise<InvariantResult> {
  const counts = new Map<string, number>();
  let running = 0;
  for await (const wf of client.workflow.list()) {
    const key = `${wf.type} ${wf.status.name}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (wf.type === 'accountSyncWorkflow' && wf.status.name === 'RUNNING') running += 1;
  }
  const bad = [...counts].filter(([k]) => /FAILED|TERMINATED|TIMED_OUT|CANCELLED/.test(k));
  return {
    name: 'no workflow failed, every account workflow running',
    account: '*',
    pass: bad.length === 0 && running === accounts,
    detail: [...counts].map(([k, n]) => `${k}: ${n}`).join(', '),
  };
}

export async function rerun(
  ops: AppDeps,
  sql: DbHandle['sql'],
  accountId: string,
  statusOf: StatusOf,
): Promise<InvariantResult> {
  const problems: string[] = [];
  let before: Snapshot | undefined;
  try {
    before = await snapshot(sql, accountId);
    const eventsBefore = await lastSeq(sql, accountId);
    await withTimeout(syncNow(ops, accountId, true), 120_000, 'sync-now');
    const started = await startImport(ops, accountId, { dryRun: false });
    const stats: ImportStats = await withTimeout(
      waitForImport(ops, started.workflowId, () => {}),
      240_000,
      'import',
    );
    if (stats.written !== 0) problems.push(`the import wrote ${stats.written} rows`);
    // The import's end triggers a catch-up sync in the parent; let it run before the last sync-now.
    await eventually('parent idle', 60_000, async () => {
      const s = await statusOf(accountId);
      return s.state === 'idle' && s.import?.state === 'done' ? s : undefined;
    });
    await withTimeout(syncNow(ops, accountId, true), 120_000, 'sync-now');
    // Its own import.finished is the one event a re-run may add: nothing OneCockpit shows changed.
    const added = (await accountEvents(sql, accountId, eventsBefore, 1000)).events.filter(
      (e) => e.type !== 'import.finished',
    );
    if (added.length > 0)
      problems.push(
        `${added.length} events: ${added
          .slice(0, 3)
          .map((e) => `${e.type} ${JSON.stringify(e.data).slice(0, 80)}`)
          .join('; ')}`,
      );
    const changed = changedRows(before, await snapshot(sql, accountId));
    const total = Object.values(changed).reduce((a, b) => a + b, 0);
    if (total > 0) {
      problems.push(
        `changed rows: ${Object.entries(changed)
          .filter(([, n]) => n > 0)
          .map(([t, n]) => `${t} ${n}`)
          .join(', ')}`,
      );
    }
  } catch (err) {
    problems.push((err as Error).message);
  }
  return {
    name: 're-run changes 0 rows and adds 0 events',
    account: accountId,
    pass: problems.length === 0,
    detail: problems.join('; '),
  };
}
