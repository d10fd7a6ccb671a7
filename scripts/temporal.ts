// `npm run temporal`: a local Temporal dev server with its web UI, persisted under .data/ (git-ignored).
// `npm run temporal:install`: only make sure the CLI is there (used by .ci/run).
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { devServerArgs, ensureTemporal } from '../src/dev/temporal-cli';

const log = (msg: string) => console.error(`[temporal] ${msg}`);

async function main(): Promise<void> {
  const command = process.argv[2] ?? 'server';
  const bin = await ensureTemporal({ log });
  if (command === 'install') {
    log(bin ? `ready: ${bin}` : 'no binary; the SDK download will be used');
    return;
  }
  const port = Number(process.env.TEMPORAL_PORT ?? 7233);
  const uiPort = Number(process.env.TEMPORAL_UI_PORT ?? 8233);
  const dataDir = path.resolve(__dirname, '..', '.data');
  mkdirSync(dataDir, { recursive: true });
  const dbFile = path.join(dataDir, 'temporal.sqlite');
  if (bin) {
    log(`starting ${bin} on 127.0.0.1:${port}, web UI http://127.0.0.1:${uiPort}, data ${dbFile}`);
    const child = spawn(bin, devServerArgs({ port, uiPort, dbFile }), { stdio: 'inherit' });
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
    child.on('exit', (code) => process.exit(code ?? 0));
    return;
  }
  const env = await TestWorkflowEnvironment.createLocal({
    server: { ip: '127.0.0.1', port, ui: true, uiPort, dbFilename: dbFile },
  });
  log(`started (SDK download) on 127.0.0.1:${port}, web UI http://127.0.0.1:${uiPort}`);
  const stop = () => void env.teardown().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  log(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
