import type { Client } from '@temporalio/client';
import { describe, expect, inject, it } from 'vitest';
import type { AppDeps } from '../../src/app';
import { addInterface, removeInterface, setInterfaceActive, updateInterfaceSettings } from '../../src/app';
import { confirmReconcile, followImport, startImport, startReconcile } from '../../src/app';
import { getCustomers, getStatus, rotateKeys, syncNow } from '../../src/app';
import { createDb } from '../../src/db/client';
import { loadInterface } from '../../src/db/interfaces';
import { migrateDatabase } from '../../src/db/migrate';
import { createKeyring, encryptToken, keyId, keyringOf, openInterfaceToken } from '../../src/secrets';
import { accountSyncWorkflowId } from '../../src/shared';
import { addSandboxInterface, useAppEnv } from '../helpers/app-env';
import { TEST_SECRET_KEY, eventually, randomId } from '../helpers/env';
import { appErrorOf as appError } from '../helpers/errors';
import { truthOf, viewOf } from '../helpers/truth';

// The use cases of src/app on the real dev server, PostgreSQL and the sandbox.
const env = useAppEnv();
const { config } = env;
const sandbox = (seed: number, invoices = 60) => env.sandbox(seed, invoices);

const initialImportDone = (accountId: string) =>
  eventually(async () => {
    const s = await getStatus(env.ops, accountId);
    return s.import?.state === 'done' ? s : undefined;
  }, 120_000);

/** An account whose initial import has ended, on a sevDesk slowed down so the next import is still running. */
async function importedAndSlowed(seed: number, invoices: number) {
  const sb = await sandbox(seed, invoices);
  const accountId = randomId('app');
  await addSandboxInterface(env.ops, accountId, sb);
  await initialImportDone(accountId);
  sb.faults.add({ kind: 'slow', delayMs: 1500, path: '/Invoice', times: 3 });
  return { sb, accountId };
}

describe('interface add', () => {
  it('stores nothing when sevDesk rejects the token or the base URL is not https', async () => {
    const sb = await sandbox(11);
    const accountId = randomId('app');
    const bad = await appError(addInterface(env.ops, { accountId, token: 'f'.repeat(32), baseUrl: sb.url }));
    expect(bad.type).toBe('invalid_token');
    expect(bad.message).toContain('sevDesk rejected the API token');
    const http = await appError(
      addInterface(env.ops, { accountId, token: sb.token, baseUrl: 'http://sevdesk.example/api/v1' }),
    );
    expect(http.type).toBe('invalid_input');
    expect(http.message).toMatch(/must use https:\/\//);
    expect(http.message).not.toContain(sb.token);
    expect(await loadInterface(env.ops.db.sql, accountId)).toBeUndefined();
    expect(sb.requests.entries().length).toBeGreaterThan(0);
  });

  it('never puts the token in an error message', async () => {
    const sb = await sandbox(12);
    sb.faults.add({ kind: 'server-error-html', times: 10 });
    const err = await appError(
      addInterface(env.ops, { accountId: randomId('app'), token: sb.token, baseUrl: sb.url }),
    );
    expect(err.type).toBe('unavailable');
    expect(err.message).toContain('could not check the token');
    expect(err.message).not.toContain(sb.token);
  });

  it('is idempotent: a start that failed halfway is finished by the retry; another token is a conflict', async () => {
    const sb = await sandbox(13);
    const accountId = randomId('app');
    // Temporal refuses the start after the row is stored.
    const broken: AppDeps = {
      ...env.ops,
      temporal: {
        workflow: { start: () => Promise.reject(new Error('14 UNAVAILABLE: connection refused')) },
      } as unknown as Client,
    };
    const half = await appError(
      addInterface(broken, { accountId, token: sb.token, baseUrl: sb.url, intervalSeconds: 3600 }),
    );
    expect(half.type).toBe('unavailable');
    expect(half.message).toContain('run the same command again');
    expect(await loadInterface(env.ops.db.sql, accountId)).toMatchObject({
      accountId,
      baseUrl: sb.url,
      active: true,
      settings: { intervalSeconds: 3600 },
    });

    const retry = await addInterface(env.ops, {
      accountId,
      token: sb.token,
      baseUrl: sb.url,
      intervalSeconds: 3600,
    });
    expect(retry).toEqual({ workflowId: accountSyncWorkflowId(accountId), created: false });
    const desc = await env.ops.temporal.workflow.getHandle(retry.workflowId).describe();
    expect(desc.status.name).toBe('RUNNING');
    // Once more: nothing changes, the same workflow keeps running.
    const again = await addInterface(env.ops, { accountId, token: sb.token, baseUrl: sb.url });
    expect(again.created).toBe(false);
    expect((await env.ops.temporal.workflow.getHandle(retry.workflowId).describe()).runId).toBe(desc.runId);

    const other = await appError(
      addInterface(env.ops, { accountId, token: 'a'.repeat(32), baseUrl: sb.url }),
    );
    expect(other.type).toBe('conflict');
    expect(other.message).toContain('another token');
    const interval = await appError(
      addInterface(env.ops, { accountId, token: sb.token, baseUrl: sb.url, intervalSeconds: 60 }),
    );
    expect(interval.message).toContain('another interval');
    // The workflow the retry started serves a sync-now, and the account shows what its sevDesk holds.
    await syncNow(env.ops, accountId, true);
    const synced = await getStatus(env.ops, accountId);
    expect(synced).toMatchObject({ live: true, error: null });
    expect(viewOf(await getCustomers(env.ops, accountId), synced.unassigned)).toEqual(truthOf(sb.store));
    await removeInterface(env.ops, accountId, true);
  });
});

describe('interface update and activation', () => {
  it('a new base URL needs the token again and rebinds the stored token to it', async () => {
    const sb = await sandbox(14);
    const sb2 = await sandbox(14);
    const accountId = randomId('app');
    await addInterface(env.ops, { accountId, token: sb.token, baseUrl: sb.url, intervalSeconds: 3600 });
    const active = await appError(updateInterfaceSettings(env.ops, { accountId, intervalSeconds: 30 }));
    expect(active.type).toBe('conflict');
    await setInterfaceActive(env.ops, accountId, false);

    const noToken = await appError(updateInterfaceSettings(env.ops, { accountId, baseUrl: sb2.url }));
    expect(noToken.type).toBe('invalid_input');
    expect(noToken.message).toContain('needs the sevDesk API token again');
    expect(noToken.message).not.toMatch(/--token <|--token [0-9a-f]/);
    const plain = await appError(
      updateInterfaceSettings(env.ops, {
        accountId,
        baseUrl: 'http://sevdesk.example/api/v1',
        token: sb.token,
      }),
    );
    expect(plain.type).toBe('invalid_input');
    // The old token against the new sandbox: refused there, nothing changes.
    const wrong = await appError(
      updateInterfaceSettings(env.ops, { accountId, baseUrl: sb2.url, token: sb.token }),
    );
    expect(wrong.type).toBe('invalid_token');
    expect((await loadInterface(env.ops.db.sql, accountId))?.baseUrl).toBe(sb.url);

    await updateInterfaceSettings(env.ops, { accountId, baseUrl: sb2.url, token: sb2.token });
    const row = (await loadInterface(env.ops.db.sql, accountId))!;
    expect(row.baseUrl).toBe(sb2.url);
    const ring = keyringOf(TEST_SECRET_KEY);
    expect(openInterfaceToken(ring, row)).toBe(sb2.token);
    // Bound to the origin: the same ciphertext with the old base URL does not open.
    expect(() => openInterfaceToken(ring, { ...row, baseUrl: sb.url })).toThrow();

    await setInterfaceActive(env.ops, accountId, true);
    const before = sb2.requests.entries().length;
    await syncNow(env.ops, accountId, true);
    expect(sb2.requests.entries().length).toBeGreaterThan(before);
    await removeInterface(env.ops, accountId, true);
  });

  it('activate starts the account workflow from the row when it is not running', async () => {
    const sb = await sandbox(15);
    const accountId = randomId('app');
    await addInterface(env.ops, { accountId, token: sb.token, baseUrl: sb.url, intervalSeconds: 3600 });
    const h = env.ops.temporal.workflow.getHandle(accountSyncWorkflowId(accountId));
    await h.terminate('test: lost workflow');
    await setInterfaceActive(env.ops, accountId, true);
    expect((await h.describe()).status.name).toBe('RUNNING');
    const s = await eventually(async () => {
      const st = await getStatus(env.ops, accountId);
      return st.live && st.active ? st : undefined;
    });
    expect(s.state).not.toBe('paused');
    await setInterfaceActive(env.ops, accountId, false);
    expect((await getStatus(env.ops, accountId)).state).toBe('paused');
    const inactive = await appError(syncNow(env.ops, accountId, true));
    expect(inactive.type).toBe('inactive');
    await removeInterface(env.ops, accountId, true);
    expect((await appError(getStatus(env.ops, accountId))).type).toBe('not_found');
  });
});

describe('imports', () => {
  it('a second start while one runs returns that import, and both followers see it end', async () => {
    const { accountId } = await importedAndSlowed(16, 400);
    const a = await startImport(env.ops, accountId, { dryRun: false });
    expect(a.alreadyRunning).toBe(false);
    const b = await startImport(env.ops, accountId, { dryRun: false });
    expect(b).toMatchObject({ importId: a.importId, workflowId: a.workflowId, alreadyRunning: true });
    const c = await startImport(env.ops, accountId, { dryRun: false });
    expect(c).toMatchObject({ importId: a.importId, alreadyRunning: true });
    const dry = await appError(startImport(env.ops, accountId, { dryRun: true }));
    expect(dry.type).toBe('conflict');
    expect(dry.message).toContain('an import is already running');
    const [x, y] = await Promise.all([
      followImport(env.ops, a.workflowId, () => {}),
      followImport(env.ops, b.workflowId, () => {}),
    ]);
    expect(x).toEqual(y);
    expect(x.invoices).toBeGreaterThan(0);
    const s = await getStatus(env.ops, accountId);
    expect(s.import).toMatchObject({ importId: a.importId, state: 'done', dryRun: false });
    expect(s.heldSweep).toBeNull();
    expect(s.counts.invalid).toBe(s.invalid.length);
    const nothing = await appError(confirmReconcile(env.ops, accountId));
    expect(nothing.type).toBe('not_found');
    await removeInterface(env.ops, accountId, true);
  });
});

describe('imports, two clicks at the same moment', () => {
  it('two concurrent starts give one import', async () => {
    const { accountId } = await importedAndSlowed(17, 300);
    const [a, b] = await Promise.all([
      startImport(env.ops, accountId, { dryRun: false }),
      startImport(env.ops, accountId, { dryRun: false }),
    ]);
    expect(a.importId).toBe(b.importId);
    expect([a.alreadyRunning, b.alreadyRunning].sort()).toEqual([false, true]);
    await followImport(env.ops, a.workflowId, () => {});
    await removeInterface(env.ops, accountId, true);
  });
});

describe('reconcile', () => {
  // Two sandboxes with the same company id: most invoices vanish at once (what another login's token, or a
  // company without ids, looks like). The company check cannot tell; the held sweep must.
  it('a sweep that would remove most invoices is held, status shows it, confirm applies it', async () => {
    const a = await sandbox(18, 120);
    const b = await sandbox(19, 20);
    const accountId = randomId('app');
    await addInterface(env.ops, { accountId, token: a.token, baseUrl: a.url, intervalSeconds: 3600 });
    const imported = await initialImportDone(accountId);
    expect(imported.counts.invoices).toBeGreaterThan(40);
    await setInterfaceActive(env.ops, accountId, false);
    await updateInterfaceSettings(env.ops, { accountId, baseUrl: b.url, token: b.token });
    await setInterfaceActive(env.ops, accountId, true);

    const walk = await startReconcile(env.ops, accountId);
    expect(walk).toMatchObject({ alreadyRunning: false, dryRun: false });
    const again = await startReconcile(env.ops, accountId);
    expect(again.importId).toBe(walk.importId);
    const stats = await followImport(env.ops, walk.workflowId, () => {});
    expect(stats.deleted).toBe(0);
    const held = await getStatus(env.ops, accountId);
    expect(held.heldSweep).toMatchObject({ importId: walk.importId, count: expect.any(Number) });
    expect(held.heldSweep!.count).toBeGreaterThan(20);
    expect(held.import).toMatchObject({ importId: walk.importId, kind: 'reconcile', state: 'done' });
    // Nothing was removed yet.
    expect(held.counts.invoices).toBeGreaterThanOrEqual(imported.counts.invoices);

    const confirmed = await confirmReconcile(env.ops, accountId);
    expect(confirmed.deleted).toBe(held.heldSweep!.count);
    await syncNow(env.ops, accountId, true);
    const after = await getStatus(env.ops, accountId);
    expect(after.heldSweep).toBeNull();
    // Now the account shows exactly what company B's sevDesk holds.
    const truth = truthOf(b.store);
    expect(after.counts.invoices).toBe(
      Object.values(truth.customers).reduce((n, c) => n + c.list.length, 0) + truth.unassigned.length,
    );
    expect((await appError(confirmReconcile(env.ops, accountId))).type).toBe('not_found');
    await removeInterface(env.ops, accountId, true);
  });
});

describe('keys rotate', () => {
  it('re-encrypts every token with the current key and upgrades rows without associated data', async () => {
    // Its own database: rotation rewrites every row, and other tests share theirs.
    const url = new URL(config.databaseUrl);
    url.pathname = `/${url.pathname.slice(1)}_rot`;
    await migrateDatabase(url.toString());
    const db = createDb(url.toString(), { max: 2 });
    try {
      const oldKey = TEST_SECRET_KEY;
      const newKey = Buffer.alloc(32, 9);
      const token = 'c'.repeat(32);
      const base = { provider: 'sevdesk', baseUrl: 'https://my.sevdesk.de/api/v1' };
      const oldRing = keyringOf(oldKey);
      const { createCipheriv, randomBytes } = await import('node:crypto');
      const legacy = (plain: string) => {
        const iv = randomBytes(12);
        const c = createCipheriv('aes-256-gcm', oldKey, iv);
        const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
        return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
      };
      await db.sql`insert into accounts (id, name) values ('r1', 'r1'), ('r2', 'r2'), ('r3', 'r3')`;
      const v2 = encryptToken(oldRing, { accountId: 'r1', ...base }, token);
      const rows = [
        { account: 'r1', ciphertext: v2.ciphertext, keyId: v2.keyId },
        { account: 'r2', ciphertext: legacy(token), keyId: keyId(oldKey) },
        { account: 'r3', ciphertext: legacy(token), keyId: 'gone' },
      ];
      for (const r of rows)
        await db.sql`
          insert into interfaces (account_id, provider, token_ciphertext, token_key_id, base_url, settings)
          values (${r.account}, 'sevdesk', ${r.ciphertext}, ${r.keyId}, ${base.baseUrl},
            ${JSON.stringify({ intervalSeconds: 60, amountBasis: 'gross' })}::jsonb)`;

      const cfg = {
        ...config,
        databaseUrl: url.toString(),
        secretKey: newKey,
        secretKeys: [
          { id: 'k2', key: newKey },
          { id: 'k1', key: oldKey },
        ],
      };
      const res = await rotateKeys({ db, config: cfg });
      expect(res.rotated).toEqual(['r1', 'r2']);
      expect(res.current).toEqual([]);
      expect(res.failed.map((f) => f.accountId)).toEqual(['r3']);
      expect(JSON.stringify(res)).not.toContain(token);

      const newOnly = createKeyring([{ id: 'k2', key: newKey }]);
      for (const account of ['r1', 'r2']) {
        const [row] = await db.sql<{ token_ciphertext: string; token_key_id: string }[]>`
          select token_ciphertext, token_key_id from interfaces where account_id = ${account}`;
        expect(row!.token_key_id).toBe('k2');
        expect(row!.token_ciphertext.startsWith('v2:')).toBe(true);
        const iface = {
          accountId: account,
          baseUrl: base.baseUrl,
          tokenCiphertext: row!.token_ciphertext,
          tokenKeyId: 'k2',
        };
        expect(openInterfaceToken(newOnly, iface)).toBe(token);
        // Bound to its own account now (r2 had no associated data before).
        expect(() => openInterfaceToken(newOnly, { ...iface, accountId: 'r3' })).toThrow();
      }
      const second = await rotateKeys({ db, config: cfg });
      expect(second.rotated).toEqual([]);
      expect(second.current).toEqual(['r1', 'r2']);
    } finally {
      await db.close();
      const admin = createDb(inject('adminDatabaseUrl'), { max: 1 });
      await admin.sql.unsafe(`drop database if exists "${url.pathname.slice(1)}" with (force)`);
      await admin.close();
    }
  });
});
