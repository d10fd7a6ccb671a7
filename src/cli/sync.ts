// `sevsync sync-now`, `import start` and `reconcile`: a sync cycle now, and the two walks over all invoices.
import type { Command } from 'commander';
import type { AppDeps, WalkStart } from '../app';
import { confirmReconcile, followImport, getStatus, startImport, startReconcile, syncNow } from '../app';
import { accountOption, print, withApp, withDb } from './common';
import { formatImport } from './format';
import { progressReporter } from './progress';

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

export function addSyncCommands(program: Command): void {
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
