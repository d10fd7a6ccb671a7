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
        ].join('\n'),
      );
      if (res.failed.length > 0)
        throw new AppError(
          'failed',
          `${res.failed.length} token(s) could not be re-encrypted (listed above)`,
        );
    });
}
