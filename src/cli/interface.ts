// `sevsync interface add|activate|deactivate|update|remove`: an account's sevDesk interface.
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { addInterface, removeInterface, setInterfaceActive, updateInterfaceSettings } from '../app';
import { accountOption, auditCli, withApp } from './common';
import type { TokenOptions } from './token-input';
import { TOKEN_SOURCES, resolveToken, tokenArg, tokenFileArg } from './token-input';

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 86_400)
    throw new InvalidArgumentError('must be whole seconds from 1 to 86400');
  return n;
}

const tokenOptions = (cmd: Command, what: string) =>
  cmd
    .option('--token <source>', `${what}: '-' reads it from standard input`, tokenArg)
    .option('--token-file <file>', `${what}, read from a file`, tokenFileArg);

export function addInterfaceCommands(program: Command): void {
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
        cmd: Command,
      ) => {
        const token = resolveToken(o, process.env, true);
        if (!token)
          cmd.error(`error: the sevDesk API token is missing: give it with ${TOKEN_SOURCES}`, {
            exitCode: 2,
            code: 'sevsync.missingToken',
          });
        const res = await withApp(async (app) => {
          const added = await addInterface(app, {
            accountId: o.account,
            token,
            baseUrl: o.baseUrl,
            intervalSeconds: o.interval,
            amountBasis: o.amount,
            inactive: o.inactive,
          });
          if (added.created) await auditCli(app, 'interface.added', o.account);
          return added;
        });
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
        await withApp(async (app) => {
          await setInterfaceActive(app, o.account, active);
          await auditCli(app, 'interface.changed', o.account, { fields: ['active'], active });
        });
        console.log(`interface of account ${o.account} ${active ? 'activated' : 'deactivated'}`);
      });
  }

  tokenOptions(
    accountOption(iface.command('update')).description(
      'change token, base URL or interval (only while deactivated; a new base URL needs the token again); ' +
        'a new --token alone also while active after sevDesk rejected the stored one: the sync resumes',
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
        await withApp(async (app) => {
          await updateInterfaceSettings(app, {
            accountId: o.account,
            token,
            baseUrl: o.baseUrl,
            intervalSeconds: o.interval,
            amountBasis: o.amount,
          });
          const fields = Object.entries({
            token,
            baseUrl: o.baseUrl,
            intervalSeconds: o.interval,
            amountBasis: o.amount,
          })
            .filter(([, v]) => v !== undefined)
            .map(([k]) => k);
          await auditCli(app, token ? 'interface.token_changed' : 'interface.changed', o.account, { fields });
        });
        console.log(`interface of account ${o.account} updated; activate it to resume syncing`);
      },
    );

  accountOption(iface.command('remove'))
    .description('stop syncing and remove the interface')
    .option('--purge', "also delete the account's synced invoices (customers stay)")
    .action(async (o: { account: string; purge?: boolean }) => {
      await withApp(async (app) => {
        await removeInterface(app, o.account, o.purge ?? false);
        await auditCli(app, o.purge ? 'interface.purged' : 'interface.removed', o.account);
      });
      console.log(`interface of account ${o.account} removed${o.purge ? ' and its invoices purged' : ''}`);
    });
}
