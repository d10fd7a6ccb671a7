import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../sandbox';
import { startSandbox } from '../../sandbox';
import type { RunningWorker } from '../helpers/env';
import { randomId, startWorker, testConfig } from '../helpers/env';
import { STATUS_KEYS } from '../helpers/status-json';

// The black-box contract of docs/cli.md: `sevsync` commands, exit codes and --json shapes.
const config = testConfig();
let worker: RunningWorker;
let sb: Sandbox;

function cli(
  args: string[],
  stdin?: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.resolve(__dirname, '../../bin/sevsync.cjs'), ...args], {
      env: {
        ...process.env,
        SEVDESK_TOKEN: '',
        DATABASE_URL: config.databaseUrl,
        TEMPORAL_ADDRESS: config.temporalAddress,
        SEVSYNC_TASK_QUEUE: config.taskQueue,
        SEVSYNC_SECRET_KEY: config.secretKey!.toString('base64'),
        ...env,
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
  it('exits 2 on usage errors and 0 on --help', { timeout: 300_000 }, async () => {
    expect((await cli(['bogus'])).code).toBe(2);
    expect((await cli(['status'])).code).toBe(2);
    const help = await cli(['interface', 'add', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--token');
    expect(help.stdout).toContain('--token-file');
    const update = await cli(['interface', 'update', '--help']);
    // No help text suggests a token on the command line.
    for (const text of [help.stdout, update.stdout]) expect(text).not.toMatch(/--token <(new )?token>/);
  });

  it('`worker` with a broken config says what is wrong and exits 1 (nothing keeps it running)', async () => {
    const run = await cli(['worker'], '', { SEVSYNC_SECRET_KEY: '', SEVSYNC_SECRET_KEYS: '' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/SEVSYNC_SECRET_KEY is not set/);
  });

  it(
    'adds an interface, syncs, and answers status and customers with the documented JSON',
    { timeout: 600_000 },
    async () => {
      const account = randomId('cli');
      const bad = await cli(
        ['interface', 'add', '--account', account, '--token', '-', '--base-url', sb.url],
        'f'.repeat(32),
      );
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
      expect(Object.keys(s).sort()).toEqual(STATUS_KEYS);
      expect(s).toMatchObject({
        account,
        active: true,
        state: 'idle',
        error: null,
        conflicts: [],
        invalid: [],
        heldSweep: null,
      });
      expect(Object.keys(s.counts as object).sort()).toEqual([
        'customers',
        'invalid',
        'invoices',
        'unassigned',
      ]);

      // The change feed: from the interface's start, in seq order; the next page continues after `next`.
      const feed = await cli(['events', '--account', account, '--limit', '3', '--json']);
      expect(feed.code, feed.stderr).toBe(0);
      const page = JSON.parse(feed.stdout) as { events: { seq: number; type: string }[]; next: number };
      expect(page.events.map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(page.events[0]!.type).toBe('interface.state_changed');
      expect(page.next).toBe(3);
      const more = await cli(['events', '--account', account, '--after', '3', '--limit', '1']);
      expect(more.stdout).toMatch(/^#4 \S+ [a-z]+\.[a-z_]+ /);
      expect((await cli(['events', '--account', account, '--limit', '0'])).code).toBe(2);

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
    },
  );

  it(
    'takes the token from a file or SEVDESK_TOKEN, refuses plain http, retries add, follows a running import',
    { timeout: 600_000 },
    async () => {
      const account = randomId('cli');
      const missing = await cli(['interface', 'add', '--account', account, '--base-url', sb.url]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('--token - (standard input), --token-file F or SEVDESK_TOKEN');

      const plain = await cli(
        [
          'interface',
          'add',
          '--account',
          account,
          '--token',
          '-',
          '--base-url',
          'http://sevdesk.example/api/v1',
        ],
        sb.token,
      );
      expect(plain.code).toBe(1);
      expect(plain.stderr).toContain('must use https://');

      const dir = mkdtempSync(path.join(tmpdir(), 'sevsync-cli-'));
      const file = path.join(dir, 'token');
      writeFileSync(file, `${sb.token}\n`, { mode: 0o600 });
      const add = await cli([
        'interface',
        'add',
        '--account',
        account,
        '--token-file',
        file,
        '--base-url',
        sb.url,
      ]);
      expect(add.code, add.stderr).toBe(0);
      // The same add again (e.g. a retry after a timeout) with the token in the environment: not an error.
      const again = await cli(['interface', 'add', '--account', account, '--base-url', sb.url], undefined, {
        SEVDESK_TOKEN: sb.token,
      });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain('already there');

      // Wait for the initial import, then slow sevDesk down so a new import is still running at the second click.
      for (const deadline = Date.now() + 120_000; ;) {
        const st = JSON.parse((await cli(['status', '--account', account, '--json'])).stdout) as {
          import: { state: string } | null;
        };
        if (st.import?.state === 'done') break;
        expect(Date.now()).toBeLessThan(deadline);
      }
      sb.faults.add({ kind: 'slow', delayMs: 2500, path: '/Invoice', times: 4 });
      const first = cli(['import', 'start', '--account', account, '--wait', '--json']);
      const second = cli(['import', 'start', '--account', account, '--wait', '--json']);
      const [a, b] = await Promise.all([first, second]);
      expect(a.code, a.stderr).toBe(0);
      expect(b.code, b.stderr).toBe(0);
      const ja = JSON.parse(a.stdout) as { importId: string; invoices: number };
      const jb = JSON.parse(b.stdout) as { importId: string; invoices: number };
      expect(ja.importId).toBe(jb.importId);
      expect(ja.invoices).toBe(jb.invoices);
      expect(a.stderr + b.stderr).toContain(`import ${ja.importId} is already running`);

      expect((await cli(['interface', 'deactivate', '--account', account])).code).toBe(0);
      const move = await cli([
        'interface',
        'update',
        '--account',
        account,
        '--base-url',
        `${sb.url}/`.replace('127.0.0.1', 'localhost'),
      ]);
      expect(move.code).toBe(1);
      expect(move.stderr).toContain('needs the sevDesk API token again');
      const nothingHeld = await cli(['reconcile', '--account', account, '--confirm']);
      expect(nothingHeld.code).toBe(1);
      expect(nothingHeld.stderr).toContain('nothing is held for confirmation');
      // A literal token still works for old scripts, with a warning (and never echoed).
      const literal = await cli(['interface', 'update', '--account', account, '--token', sb.token]);
      expect(literal.code, literal.stderr).toBe(0);
      expect(literal.stderr).toContain('warning: a token typed on the command line');
      expect((await cli(['interface', 'activate', '--account', account])).code).toBe(0);
      const rec = await cli(['reconcile', '--account', account, '--wait', '--json']);
      expect(rec.code, rec.stderr).toBe(0);
      expect(JSON.parse(rec.stdout)).toMatchObject({ importId: expect.stringMatching(/^rec-/), deleted: 0 });
      for (const out of [missing, plain, add, again, a, b, move, nothingHeld, literal, rec])
        expect(out.stdout + out.stderr).not.toContain(sb.token);
      expect((await cli(['interface', 'remove', '--account', account, '--purge'])).code).toBe(0);
    },
  );
});
