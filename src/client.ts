// The operator CLI: `npx sevsync <command>`. Exit codes: 0 ok, 1 failure (with a clear message), 2 usage.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ConfigError, loadConfig } from './config';
import { createDb } from './db/client';
import { migrateDatabase } from './db/migrate';
import { formatCustomers, formatImport, formatStatus } from './cli/format';
import { progressReporter } from './cli/progress';
import type { OpsDeps } from './cli/operations';
import {
  UserError,
  addInterface,
  connectOps,
  getCustomers,
  getStatus,
  removeInterface,
  setInterfaceActive,
  startImport,
  syncNow,
  waitForImport,
  updateInterfaceSettings,
} from './cli/operations';
import { createWorker } from './worker';

const config = () => loadConfig(process.env);

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 86_400)
    throw new InvalidArgumentError('must be whole seconds from 1 to 86400');
  return n;
}

/** `--token -` reads the token from standard input, so it stays out of shell history and `ps`. */
function token(value: string): string {
  const t = value === '-' ? readFileSync(0, 'utf8') : value;
  return t.trim();
}

async function withOps<T>(fn: (ops: OpsDeps) => Promise<T>): Promise<T> {
  const ops = await connectOps(config());
  try {
    return await fn(ops);
  } finally {
    await ops.close();
  }
}

const print = (json: boolean, value: unknown, text: () => string) =>
  console.log(json ? JSON.stringify(value, null, 2) : text());

export function buildProgram(): Command {
  const program = new Command('sevsync')
    .description('sevDesk invoices to OneCockpit customers, on Temporal and PostgreSQL')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('migrate')
    .description('apply database migrations (creates the database if missing)')
    .action(async () => {
      const url = config().databaseUrl;
      const res = await migrateDatabase(url);
      console.log(`${res.created ? 'created the database; ' : ''}applied ${res.applied} migration(s)`);
    });

  program
    .command('worker')
    .description('run the worker (workflows and activities) until SIGINT/SIGTERM')
    .action(async () => {
      const w = await createWorker({ config: config() });
      console.error(`worker polling task queue ${w.worker.options.taskQueue}`);
      await w.run();
    });

  const iface = program
    .command('interface')
    .description('add, change and remove the sevDesk interface of an account');
  iface
    .command('add')
    .description('check the token against sevDesk, store it encrypted, start syncing')
    .requiredOption('--account <id>', 'OneCockpit account id')
    .requiredOption('--token <token>', "sevDesk API token ('-' reads it from stdin)", token)
    .option('--base-url <url>', 'sevDesk API base URL (default: SEVDESK_BASE_URL)')
    .option('--interval <seconds>', 'sync interval', seconds)
    .addOption(new Option('--amount <basis>', 'which amount counts').choices(['gross', 'net']))
    .option('--inactive', 'add it deactivated (preview with `import start --dry-run`, then `activate`)')
    .action(
      async (o: {
        account: string;
        inactive?: boolean;
        token: string;
        baseUrl?: string;
        interval?: number;
        amount?: 'gross' | 'net';
      }) => {
        const res = await withOps((ops) =>
          addInterface(ops, {
            accountId: o.account,
            token: o.token,
            baseUrl: o.baseUrl,
            intervalSeconds: o.interval,
            amountBasis: o.amount,
            inactive: o.inactive,
          }),
        );
        console.log(`sevDesk interface added for account ${o.account}; syncing (workflow ${res.workflowId})`);
      },
    );
  for (const [name, active] of [
    ['activate', true],
    ['deactivate', false],
  ] as const) {
    iface
      .command(name)
      .description(`${name} the interface (idempotent)`)
      .requiredOption('--account <id>', 'OneCockpit account id')
      .action(async (o: { account: string }) => {
        await withOps((ops) => setInterfaceActive(ops, o.account, active));
        console.log(`interface of account ${o.account} ${active ? 'activated' : 'deactivated'}`);
      });
  }
  iface
    .command('update')
    .description('change token, base URL or interval (only while deactivated)')
    .requiredOption('--account <id>', 'OneCockpit account id')
    .option('--token <token>', "new sevDesk API token ('-' reads it from stdin)", token)
    .option('--base-url <url>', 'sevDesk API base URL')
    .option('--interval <seconds>', 'sync interval', seconds)
    .addOption(new Option('--amount <basis>', 'which amount counts').choices(['gross', 'net']))
    .action(
      async (o: {
        account: string;
        token?: string;
        baseUrl?: string;
        interval?: number;
        amount?: 'gross' | 'net';
      }) => {
        await withOps((ops) =>
          updateInterfaceSettings(ops, {
            accountId: o.account,
            token: o.token,
            baseUrl: o.baseUrl,
            intervalSeconds: o.interval,
            amountBasis: o.amount,
          }),
        );
        console.log(`interface of account ${o.account} updated; activate it to resume syncing`);
      },
    );
  iface
    .command('remove')
    .description('stop syncing and remove the interface')
    .requiredOption('--account <id>', 'OneCockpit account id')
    .option('--purge', "also delete the account's synced invoices (customers stay)")
    .action(async (o: { account: string; purge?: boolean }) => {
      await withOps((ops) => removeInterface(ops, o.account, o.purge ?? false));
      console.log(`interface of account ${o.account} removed${o.purge ? ' and its invoices purged' : ''}`);
    });

  program
    .command('sync-now')
    .description('sync an account now')
    .requiredOption('--account <id>', 'OneCockpit account id')
    .option('--wait', 'wait until the sync has finished')
    .action(async (o: { account: string; wait?: boolean }) => {
      const counts = await withOps((ops) => syncNow(ops, o.account, o.wait ?? false));
      if (!counts) console.log(`sync of account ${o.account} requested`);
      else
        console.log(
          `synced account ${o.account}: ${counts.fetched} fetched, ${counts.written} written, ` +
            `${counts.unassigned} unassigned, ${counts.invalid} invalid`,
        );
    });

  const imports = program.command('import').description('the bulk import of the whole invoice history');
  imports
    .command('start')
    .description('start the bulk import ("Massenimport"); one at a time per account')
    .requiredOption('--account <id>', 'OneCockpit account id')
    .option('--wait', 'follow it with a progress bar until it ends')
    .option('--dry-run', 'preview without writing: invoices, matched, unassigned and why, open and paid sums')
    .option('--json', 'print the final figures as JSON (with --wait or --dry-run)')
    .action(async (o: { account: string; wait?: boolean; dryRun?: boolean; json?: boolean }) => {
      await withOps(async (ops) => {
        const started = await startImport(ops, o.account, { dryRun: o.dryRun ?? false });
        if (!o.wait && !o.dryRun) {
          console.log(`import ${started.importId} started (workflow ${started.workflowId})`);
          return;
        }
        const bar = progressReporter();
        const stats = await waitForImport(ops, started.workflowId, (p) => bar.update(p));
        bar.end();
        const { tailIds: _tail, ...figures } = stats;
        print(o.json ?? false, { importId: started.importId, dryRun: started.dryRun, ...figures }, () =>
          formatImport(stats, started.dryRun),
        );
      });
    });

  program
    .command('status')
    .description("an account's sync state, counts, unassigned invoices and conflicts")
    .requiredOption('--account <id>', 'OneCockpit account id')
    .option('--json', 'machine-readable output')
    .option('--watch', 'refresh every 2 seconds until Ctrl-C')
    .action(async (o: { account: string; json?: boolean; watch?: boolean }) => {
      await withOps(async (ops) => {
        for (;;) {
          const s = await getStatus(ops, o.account);
          const { live: _live, invalid: _invalid, ...contract } = s;
          if (o.watch && !o.json && process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H');
          print(o.json ?? false, contract, () => formatStatus(s));
          if (!o.watch) return;
          await new Promise((r) => setTimeout(r, 2000));
        }
      });
    });

  program
    .command('customers')
    .description('what OneCockpit shows: customers, values, invoices')
    .requiredOption('--account <id>', 'OneCockpit account id')
    .option('--json', 'machine-readable output')
    .action(async (o: { account: string; json?: boolean }) => {
      const db = createDb(config().databaseUrl, { max: 1 });
      try {
        const customers = await getCustomers({ db }, o.account);
        print(o.json ?? false, customers, () => formatCustomers(customers));
      } finally {
        await db.close();
      }
    });
  return program;
}

export async function main(argv: string[]): Promise<number> {
  // `sevsync customers --json | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version')
        return 0;
      return 2;
    }
    if (err instanceof UserError || err instanceof ConfigError) {
      console.error(`error: ${err.message}`);
      return 1;
    }
    const e = err as Error;
    console.error(`error: ${e.message ?? String(err)}`);
    return 1;
  }
}

if (
  require.main === module ||
  process.argv[1]?.endsWith('sevsync.cjs') ||
  process.argv[1]?.endsWith('sevsync')
) {
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
