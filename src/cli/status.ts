// `sevsync status` and `customers`: what an account's sync is doing, and what OneCockpit shows.
import type { Command } from 'commander';
import { getCustomers, getStatus } from '../app';
import { accountOption, print, withApp, withDb } from './common';
import { formatCustomers, formatStatus, statusJson } from './format';

export function addStatusCommands(program: Command): void {
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
