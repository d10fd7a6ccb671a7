import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';

// Issue 9 item 7: the campaign's "pg-terminate" fault killed the worker through postgres.js itself (a
// TypeError thrown from `nextWrite` in an Immediate, porsager/postgres#1154/#1208, and an unhandled
// rejection of the type fetch after connect). patches/postgres+3.4.9.patch (applied by `npm ci` through
// patch-package) fixes both; this runs the hammer against the installed driver. Without the patch the
// victim dies within a few seconds (`npx tsx chaos/pg-terminate-hammer.ts --driver <unpatched copy>`).

const root = path.resolve(__dirname, '../..');

function runHammer(seconds: number): Promise<{ code: number | null; output: string }> {
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
    child.on('exit', (code) => resolve({ code, output }));
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

  it(
    'settles every query and keeps the process alive while its backends are terminated',
    { timeout: 90_000 },
    async () => {
      const { code, output } = await runHammer(12);
      expect(output).toMatch(/survived \d+ rounds/);
      expect(code, output.slice(-2000)).toBe(0);
    },
  );
});
