// `sevsync keys rotate`.
import type { Command } from 'commander';
import { AppError, rotateKeys } from '../app';
import { print, withDb } from './common';

export function addKeysCommands(program: Command): void {
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
          ...(res.webhooks.rotated.length + res.webhooks.current.length + res.webhooks.failed.length > 0
            ? [
                `re-encrypted ${res.webhooks.rotated.length} webhook secret(s); ${res.webhooks.current.length} already current`,
                ...res.webhooks.failed.map((f) => `  not rotated: webhook ${f.id}: ${f.reason}`),
              ]
            : []),
        ].join('\n'),
      );
      const failed = res.failed.length + res.webhooks.failed.length;
      if (failed > 0)
        throw new AppError(
          'failed',
          `${failed} token(s) or secret(s) could not be re-encrypted (listed above)`,
        );
    });
}
