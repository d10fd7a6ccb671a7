import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';

// The fault campaign's "pg-terminate" fault killed the worker through postgres.js itself (a TypeError thrown
// from `nextWrite` in an Immediate when the server ends the connection mid-write, and an unhandled rejection of
// the type fetch after connect). patches/postgres+3.4.9.patch (applied by `npm ci` through patch-package) fixes both;
// this runs the hammer against the installed driver. Without the patch the victim dies within a few seconds
// (`npx tsx chaos/pg-terminate-hammer.ts --driver <unpatched copy>`).

const root = path.resolve(__dirname, '../..');
/** The hammer's exit code when a query hung (chaos/pg-terminate-hammer.ts). */
const HUNG_EXIT = 3;

function runHammer(seconds: number): Promise<{ code: number | null; output: string }> {
  // An exit without a line of output (seen once in CI, code and signal unknown) is said with both.
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(
      process.execPath,
      [
        path.join(root, 'node_modules/tsx/dist/cli.mjs'),
        path.join(root, 'chaos/pg-terminate-hammer.ts'),
        '--seconds',
        String(seconds),
        '--hang-ms',
        '15000',
      ],
      {
        cwd: root,
        env: { ...process.env, SEVSYNC_CHAOS_PG_URL: inject('adminDatabaseUrl') },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (code, signal) =>
      resolve({ code, output: output || `(no output; exit code ${code}, signal ${signal ?? 'none'})` }),
    );
  });
}

describe('the PostgreSQL driver under pg_terminate_backend', () => {
  it('is the patched postgres.js (patch-package ran on install)', () => {
    for (const dir of ['cjs/src', 'src']) {
      const source = readFileSync(path.join(root, 'node_modules/postgres', dir, 'connection.js'), 'utf8');
      expect(source, `${dir}/connection.js`).toContain('sevsync patch (porsager/postgres#1154');
    }
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts['postinstall']).toBe('patch-package');
  });

  // The crash (#1154/#1208) is what the patch fixes: the process must never die. A query that hangs after its
  // backend was terminated during connection setup is a different, rarer driver bug (about 1 in 3 runs of 12 s
  // of terminations every few ms, measured): the hammer reports it (exit 3) and the test accepts it, while a
  // crash (any other exit) fails. Activities are bounded by their start-to-close timeouts meanwhile.
  it(
    'keeps the process alive while its backends are terminated (a rare hung query is reported, never fatal)',
    { timeout: 90_000 },
    async () => {
      let { code, output } = await runHammer(12);
      // A hammer that died before its first line never reached the terminations: said, and run once more.
      if (output.startsWith('(no output')) {
        console.warn(`pg-terminate hammer: ${output}; running it again`);
        ({ code, output } = await runHammer(12));
      }
      expect(output, output.slice(-2000)).toMatch(/survived \d+ rounds|did not settle within/);
      expect(output).not.toMatch(/crashed/);
      expect([0, HUNG_EXIT], output.slice(-2000)).toContain(code);
    },
  );
});
