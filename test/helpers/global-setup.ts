import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { ensureTemporal } from '../../src/dev/temporal-cli';
import { migrateDatabase } from '../../src/db/migrate';
import { workflowsPath } from '../../src/workflow-bundle';
import { accountSearchKey, stateSearchKey } from '../../src/shared/search-attributes';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    databaseUrl: string;
    adminDatabaseUrl: string;
    workflowBundlePath: string;
  }
}

const BASE_URL = process.env.SEVSYNC_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * One real Temporal dev server (its own free port, in-memory) and one fresh PostgreSQL database per test run;
 * both are gone afterwards. Tests share them and isolate by random account ids and task queues.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const bin = await ensureTemporal({ log: (m) => console.log(`[global-setup] ${m}`) });
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      ip: '127.0.0.1',
      ui: false,
      executable: bin ? { type: 'existing-path', path: bin } : { type: 'cached-download' },
      log: { format: 'pretty', level: 'error' },
      searchAttributes: [accountSearchKey, stateSearchKey],
    },
  });

  const dbName = `sevsync_test_${randomBytes(4).toString('hex')}`;
  const dbUrl = new URL(BASE_URL);
  dbUrl.pathname = `/${dbName}`;
  await migrateDatabase(dbUrl.toString());

  const dir = mkdtempSync(path.join(os.tmpdir(), 'sevsync-test-'));
  const bundlePath = path.join(dir, 'workflows.js');
  const bundle = await bundleWorkflowCode({
    workflowsPath: workflowsPath(),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error },
  });
  writeFileSync(bundlePath, bundle.code);

  project.provide('temporalAddress', env.address);
  project.provide('databaseUrl', dbUrl.toString());
  project.provide('adminDatabaseUrl', BASE_URL);
  project.provide('workflowBundlePath', bundlePath);
  console.log(
    `[global-setup] temporal ${env.address} (${bin ?? 'sdk download'}), database ${dbName}, ready in ${Date.now() - started} ms`,
  );

  return async () => {
    await env.teardown();
    const admin = postgres(BASE_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`drop database if exists "${dbName}" with (force)`);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  };
}
