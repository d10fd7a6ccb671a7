// The operator CLI: `npx sevsync <command>`. Exit codes: 0 ok, 1 failure (with a clear message), 2 usage.
// It only parses arguments, calls the use cases of src/app and formats their results.
import type { Command as CommandType } from 'commander';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { AppDeps, WalkStart } from './app';
import {
  AppError,
  addInterface,
  confirmReconcile,
  connectApp,
  followImport,
  getCustomers,
  getStatus,
  removeInterface,
  rotateKeys,
  setInterfaceActive,
  startImport,
  startReconcile,
  syncNow,
  updateInterfaceSettings,
} from './app';
import { formatCustomers, formatImport, formatStatus, statusJson } from './cli/format';
import { progressReporter } from './cli/progress';
import type { TokenOptions } from './cli/token-input';
import { TOKEN_SOURCES, resolveToken, tokenArg, tokenFileArg } from './cli/token-input';
import type { Config } from './config';
import { ConfigError, loadConfig } from './config';
import { createDb } from './db/client';
import type { DbHandle } from './db/client';
import { migrateDatabase } from './db/migrate';
import { addServeCommands } from './server/command';
import { runWorkerMain } from './worker';

const config = () => loadConfig(process.env);

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 86_400)
    throw new InvalidArgumentError('must be whole seconds from 1 to 86400');
  return n;
}

async function withApp<T>(fn: (app: AppDeps) => Promise<T>): Promise<T> {
  const app = await connectApp(config());
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

/** For commands that need only the database (no Temporal server). */
async function withDb<T>(fn: (deps: { db: DbHandle; config: Config }) => Promise<T>): Promise<T> {
  const c = config();
  const db = createDb(c.databaseUrl, { max: 1 });
  try {
    return await fn({ db, config: c });
  } finally {
    await db.close();
  }
}

const print = (json: boolean, value: unknown, text: () => string) =>
  console.log(json ? JSON.stringify(value, null, 2) : text());

const accountOption = (cmd: CommandType) => cmd.requiredOption('--account <id>', 'OneCockpit account id');

const tokenOptions = (cmd: CommandType, what: string) =>
  cmd
    .option('--token <source>', `${what}: '-' reads it from standard input`, tokenArg)
    .option('--token-file <file>', `${what}, read from a file`, tokenFileArg);

const walkName = (w: WalkStart) =>
  w.kind === 'reconcile' || w.importId.startsWith('rec-') ? 'reconcile' : 'import';

/** Follows a walk with a progress bar; prints the final figures. */
async function follow(app: AppDeps, started: WalkStart, json: boolean) {
  const bar = progressReporter();
  try {
    const stats = await followImport(app, started.workflowId, (p) => bar.update(p));
    bar.end();
    const { tailIds: _tail, ...figures } = stats;
    print(json, { importId: started.importId, dryRun: started.dryRun, ...figures }, () =>
      formatImport(stats, started.dryRun),
    );
  } finally {
    bar.end();
  }
}

function addMaintenanceCommands(program: CommandType) {
  program
    .command('migrate')
    .description('apply database migrations (creates the database if missing)')
    .action(async () => {
      const res = await migrateDatabase(config().databaseUrl);
      console.log(`${res.created ? 'created the database; ' : ''}applied ${res.applied} migration(s)`);
    });

  program
    .command('worker')
    .description('run the worker (workflows and activities) until SIGINT/SIGTERM')
    .action(async () => {
      // Runtime, fatal-error handler, health/metrics server and JSON logs: src/worker.ts.
      await runWorkerMain(config());
    });

  const keys = program.command('keys').description('the keys that encrypt the stored sevDesk tokens');
  keys
    .command('rotate')
    .description(
      're-encrypt every stored token with the current key (the first of SEVSYNC_SECRET_KEYS); ' +
        'keep the old keys listed until this has run',
    )
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }) => {
      const res = await withDb((deps) => rotateKeys(deps));
      print(o.json ?? false, res, () =>
        [
          `re-encrypted ${res.rotated.length} token(s) with the current key; ${res.current.length} already current`,
          ...res.failed.map((f) => `  not rotated: account ${f.accountId}: ${f.reason}`),
        ].join('\n'),
      );
      if (res.failed.length > 0)
        throw new AppError(
          'failed',
          `${res.failed.length} token(s) could not be re-encrypted (listed above)`,
        );
    });
}

function addInterfaceCommands(program: CommandType) {
  const iface = program
    .command('interface')
    .description('add, change and remove the sevDesk interface of an account');

  tokenOptions(
    accountOption(iface.command('add')).description(
      `check the token against sevDesk, store it encrypted, start syncing (token: ${TOKEN_SOURCES})`,
    ),
    'sevDesk API token',
  )
    .option('--base-url <url>', 'sevDesk API base URL, https:// (default: SEVDESK_BASE_URL)')
    .option('--interval <seconds>', 'sync interval', seconds)
    .addOption(new Option('--amount <basis>', 'which amount counts').choices(['gross', 'net']))
    .option('--inactive', 'add it deactivated (preview with `import start --dry-run`, then `activate`)')
    .action(
      async (
        o: TokenOptions & {
          account: string;
          inactive?: boolean;
          baseUrl?: string;
          interval?: number;
          amount?: 'gross' | 'net';
        },
        cmd: CommandType,
      ) => {
        const token = resolveToken(o, process.env, true);
        if (!token)
          cmd.error(`error: the sevDesk API token is missing: give it with ${TOKEN_SOURCES}`, {
            exitCode: 2,
            code: 'sevsync.missingToken',
          });
        const res = await withApp((app) =>
          addInterface(app, {
            accountId: o.account,
            token,
            baseUrl: o.baseUrl,
            intervalSeconds: o.interval,
            amountBasis: o.amount,
            inactive: o.inactive,
          }),
        );
        console.log(
          res.created
            ? `sevDesk interface added for account ${o.account}; syncing (workflow ${res.workflowId})`
            : `sevDesk interface of account ${o.account} was already there with this token; syncing (workflow ${res.workflowId})`,
        );
      },
    );

  for (const [name, active] of [
    ['activate', true],
    ['deactivate', false],
  ] as const) {
    accountOption(iface.command(name))
      .description(`${name} the interface (idempotent)`)
      .action(async (o: { account: string }) => {
        await withApp((app) => setInterfaceActive(app, o.account, active));
        console.log(`interface of account ${o.account} ${active ? 'activated' : 'deactivated'}`);
      });
  }

  tokenOptions(
    accountOption(iface.command('update')).description(
      'change token, base URL or interval (only while deactivated; a new base URL needs the token again)',
    ),
    'new sevDesk API token',
  )
    .option('--base-url <url>', 'sevDesk API base URL, https:// (with it, SEVDESK_TOKEN is read too)')
    .option('--interval <seconds>', 'sync interval', seconds)
    .addOption(new Option('--amount <basis>', 'which amount counts').choices(['gross', 'net']))
    .action(
      async (
        o: TokenOptions & { account: string; baseUrl?: string; interval?: number; amount?: 'gross' | 'net' },
      ) => {
        // SEVDESK_TOKEN counts only with --base-url (which needs the token): a stray variable never swaps it.
        const token = resolveToken(o, process.env, o.baseUrl !== undefined);
        await withApp((app) =>
          updateInterfaceSettings(app, {
            accountId: o.account,
            token,
            baseUrl: o.baseUrl,
            intervalSeconds: o.interval,
            amountBasis: o.amount,
          }),
        );
        console.log(`interface of account ${o.account} updated; activate it to resume syncing`);
      },
    );

  accountOption(iface.command('remove'))
    .description('stop syncing and remove the interface')
    .option('--purge', "also delete the account's synced invoices (customers stay)")
    .action(async (o: { account: string; purge?: boolean }) => {
      await withApp((app) => removeInterface(app, o.account, o.purge ?? false));
      console.log(`interface of account ${o.account} removed${o.purge ? ' and its invoices purged' : ''}`);
    });
}

function addSyncCommands(program: CommandType) {
  accountOption(program.command('sync-now'))
    .description('sync an account now')
    .option('--wait', 'wait until the sync has finished')
    .action(async (o: { account: string; wait?: boolean }) => {
      const counts = await withApp((app) => syncNow(app, o.account, o.wait ?? false));
      if (!counts) console.log(`sync of account ${o.account} requested`);
      else
        console.log(
          `synced account ${o.account}: ${counts.fetched} fetched, ${counts.written} written, ` +
            `${counts.unassigned} unassigned, ${counts.invalid} invalid`,
        );
    });

  const imports = program.command('import').description('the bulk import of the whole invoice history');
  accountOption(imports.command('start'))
    .description(
      'start the bulk import ("Massenimport"); one at a time per account: if one is running, follow it; ' +
        'an import that stopped resumes from its checkpoint',
    )
    .option('--wait', 'follow it with a progress bar until it ends')
    .option('--dry-run', 'preview without writing: invoices, matched, unassigned and why, open and paid sums')
    .option('--json', 'print the final figures as JSON (with --wait or --dry-run)')
    .action(async (o: { account: string; wait?: boolean; dryRun?: boolean; json?: boolean }) => {
      await withApp(async (app) => {
        const started = await startImport(app, o.account, { dryRun: o.dryRun ?? false });
        if (started.alreadyRunning)
          console.error(
            `${walkName(started)} ${started.importId} is already running (${started.done} of ${started.total ?? '?'})` +
              (o.wait || o.dryRun ? ': following it' : ''),
          );
        if (!o.wait && !o.dryRun) {
          if (!started.alreadyRunning)
            console.log(`import ${started.importId} started (workflow ${started.workflowId})`);
          else
            console.log(
              `import ${started.importId} running (workflow ${started.workflowId}); follow it with --wait`,
            );
          return;
        }
        await follow(app, started, o.json ?? false);
      });
    });

  accountOption(program.command('reconcile'))
    .description(
      'walk all invoices to find those deleted in sevDesk; a sweep that would remove > 5 % and > 20 ' +
        'invoices is held until --confirm',
    )
    .option('--wait', 'follow the walk until it ends')
    .option('--confirm', 'apply the sweep held for confirmation (see status)')
    .option('--json', 'machine-readable output')
    .action(async (o: { account: string; wait?: boolean; confirm?: boolean; json?: boolean }) => {
      if (o.confirm) {
        const res = await withDb((deps) => confirmReconcile(deps, o.account));
        print(
          o.json ?? false,
          res,
          () => `applied the held sweep: ${res.deleted} invoice(s) marked as deleted in sevDesk`,
        );
        return;
      }
      await withApp(async (app) => {
        const started = await startReconcile(app, o.account);
        if (started.alreadyRunning)
          console.error(
            `reconcile walk ${started.importId} is already running${o.wait ? ': following it' : ''}`,
          );
        if (!o.wait) {
          if (o.json) print(true, started, () => '');
          else console.log(`reconcile walk ${started.importId} started (workflow ${started.workflowId})`);
          return;
        }
        await follow(app, started, o.json ?? false);
        const s = await getStatus(app, o.account);
        if (s.heldSweep && !o.json)
          console.log(
            `held for confirmation: ${s.heldSweep.count} of ${s.heldSweep.total} invoices would be marked as deleted; ` +
              `check the token points at the right sevDesk company, then: sevsync reconcile --account ${o.account} --confirm`,
          );
      });
    });
}

function addViewCommands(program: CommandType) {
  accountOption(program.command('status'))
    .description("an account's sync state, counts, unassigned and invalid invoices, conflicts")
    .option('--json', 'machine-readable output')
    .option('--watch', 'refresh every 2 seconds until Ctrl-C')
    .action(async (o: { account: string; json?: boolean; watch?: boolean }) => {
      await withApp(async (app) => {
        for (;;) {
          const s = await getStatus(app, o.account);
          if (o.watch && !o.json && process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H');
          print(o.json ?? false, statusJson(s), () => formatStatus(s));
          if (!o.watch) return;
          await new Promise((r) => setTimeout(r, 2000));
        }
      });
    });

  accountOption(program.command('customers'))
    .description('what OneCockpit shows: customers, values, invoices')
    .option('--json', 'machine-readable output')
    .action(async (o: { account: string; json?: boolean }) => {
      const customers = await withDb((deps) => getCustomers(deps, o.account));
      print(o.json ?? false, customers, () => formatCustomers(customers));
    });
}

/** Each group registers its commands; a new command is one more function in this list. */
export const commandGroups: ((program: CommandType) => void)[] = [
  addMaintenanceCommands,
  addInterfaceCommands,
  addSyncCommands,
  addViewCommands,
  addServeCommands,
];

export function buildProgram(): CommandType {
  const program = new Command('sevsync')
    .description('sevDesk invoices to OneCockpit customers, on Temporal and PostgreSQL')
    .showHelpAfterError()
    .exitOverride();
  for (const register of commandGroups) register(program);
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
    if (err instanceof AppError || err instanceof ConfigError) {
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
