import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox';
import { startSandbox } from '../../src/sandbox';
import type { RunningWorker } from '../helpers/env';
import { randomId, startWorker, testConfig } from '../helpers/env';

// The black-box contract of DESIGN.md: `sevsync` commands, exit codes and --json shapes.
const config = testConfig();
let worker: RunningWorker;
let sb: Sandbox;

function cli(
  args: string[],
  stdin?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.resolve(__dirname, '../../bin/sevsync.cjs'), ...args], {
      env: {
        ...process.env,
        DATABASE_URL: config.databaseUrl,
        TEMPORAL_ADDRESS: config.temporalAddress,
        SEVSYNC_TASK_QUEUE: config.taskQueue,
        SEVSYNC_SECRET_KEY: config.secretKey!.toString('base64'),
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(stdin ?? '');
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  worker = await startWorker(config);
  sb = await startSandbox({ seed: 77, data: { invoices: 150 } });
});

afterAll(async () => {
  await worker.stop();
  await sb.close();
});

describe('sevsync CLI', () => {
  it('exits 2 on usage errors and 0 on --help', async () => {
    expect((await cli(['bogus'])).code).toBe(2);
    expect((await cli(['status'])).code).toBe(2);
    const help = await cli(['interface', 'add', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--token');
  });

  it('adds an interface, syncs, and answers status and customers with the documented JSON', async () => {
    const account = randomId('cli');
    const bad = await cli([
      'interface',
      'add',
      '--account',
      account,
      '--token',
      'f'.repeat(32),
      '--base-url',
      sb.url,
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('sevDesk rejected the API token');
    expect(bad.stderr + bad.stdout).not.toContain('f'.repeat(32));

    const add = await cli(
      ['interface', 'add', '--account', account, '--token', '-', '--base-url', sb.url, '--interval', '60'],
      sb.token,
    );
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout + add.stderr).not.toContain(sb.token);
    const sync = await cli(['sync-now', '--account', account, '--wait']);
    expect(sync.code, sync.stderr).toBe(0);

    const status = await cli(['status', '--account', account, '--json']);
    expect(status.code).toBe(0);
    const s = JSON.parse(status.stdout) as Record<string, unknown>;
    expect(Object.keys(s).sort()).toEqual(
      [
        'account',
        'active',
        'conflicts',
        'counts',
        'error',
        'import',
        'lastSyncAt',
        'nextSyncAt',
        'state',
        'unassigned',
      ].sort(),
    );
    expect(s).toMatchObject({ account, active: true, state: 'idle', error: null, conflicts: [] });
    expect(Object.keys(s.counts as object).sort()).toEqual(['customers', 'invoices', 'unassigned']);

    const customers = await cli(['customers', '--account', account, '--json']);
    expect(customers.code).toBe(0);
    const list = JSON.parse(customers.stdout) as Record<string, unknown>[];
    expect(list.length).toBeGreaterThan(3);
    expect(list.map((c) => c.email)).toEqual([...list.map((c) => c.email)].sort());
    const withInvoices = list.find((c) => (c.invoices as unknown[]).length > 0)!;
    expect(withInvoices).toMatchObject({
      values: {
        invoices: expect.stringMatching(/^-?\d+\.\d{2}$/),
        total: expect.stringMatching(/^-?\d+\.\d{2}$/),
      },
      currency: 'EUR',
    });
    for (const key of [
      'email',
      'company',
      'title',
      'firstName',
      'lastName',
      'street',
      'zip',
      'city',
      'country',
      'phone',
    ]) {
      expect(withInvoices).toHaveProperty(key);
    }
    const invoice = (withInvoices.invoices as Record<string, unknown>[])[0]!;
    expect(invoice).toMatchObject({
      date: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      status: expect.stringMatching(/^(open|paid|cancelled)$/),
      amount: expect.stringMatching(/^-?\d+\.\d{2}$/),
      paidAmount: expect.stringMatching(/^-?\d+\.\d{2}$/),
      source: 'sevdesk',
    });

    const dry = await cli(['import', 'start', '--account', account, '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({
      dryRun: true,
      invoices: expect.any(Number),
      openSum: expect.stringMatching(/^\d+\.\d{2}$/),
    });
    const imp = await cli(['import', 'start', '--account', account, '--wait']);
    expect(imp.code, imp.stderr).toBe(0);
    expect(imp.stderr).toMatch(/\d+\/\d+ invoices/); // plain progress lines when not on a terminal
    expect(imp.stdout).toMatch(/import done: \d+ invoices/);

    const update = await cli(['interface', 'update', '--account', account, '--interval', '30']);
    expect(update.code).toBe(1);
    expect(update.stderr).toContain('deactivate the interface before changing it');
    expect((await cli(['interface', 'deactivate', '--account', account])).code).toBe(0);
    expect((await cli(['interface', 'update', '--account', account, '--interval', '30'])).code).toBe(0);
    expect((await cli(['interface', 'activate', '--account', account])).code).toBe(0);
    expect((await cli(['interface', 'remove', '--account', account, '--purge'])).code).toBe(0);
    const gone = await cli(['status', '--account', account]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('has no sevDesk interface');
  });
});
