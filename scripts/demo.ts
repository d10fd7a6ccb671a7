// `npm run demo`: everything on one machine. A Temporal dev server with its web UI, a sevDesk sandbox with
// realistic data, migrations, the two worker processes as deployed (syncs and webhooks; imports); then a OneCockpit account adds its sevDesk interface, the history is
// imported, a few things happen in sevDesk and are synced, and the customers are shown; `sevsync serve` runs
// with the pages and the API, and a signed-in link to them is printed. Runs until Ctrl-C
// (`npm run demo -- --exit` stops after printing).
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import Decimal from 'decimal.js';
import type { AppDeps } from '../src/app';
import { addInterface, connectApp, getCustomers, getStatus, removeInterface, syncNow } from '../src/app';
import { formatCustomers, formatStatus } from '../src/cli/format';
import { loadConfig } from '../src/config';
import { migrateDatabase } from '../src/db/migrate';
import { devServerArgs, ensureTemporal } from '../src/dev/temporal-cli';
import { startSandbox } from '../sandbox';
import type { RunningServer } from '../src/server/serve';
import { SignJWT } from 'jose';
import { startServe } from '../src/server/serve';

const ACCOUNT = 'demo-coaching';
const DATA_DIR = path.resolve(__dirname, '..', '.data');
const say = (msg: string) => console.log(`\x1b[1m==>\x1b[0m ${msg}`);

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.end();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });

/** The demo's own key, kept beside its data so a second run can read what the first stored. */
function secretKey(): string {
  if (process.env.SEVSYNC_SECRET_KEY) return process.env.SEVSYNC_SECRET_KEY;
  const file = path.join(DATA_DIR, 'demo-secret.key');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

async function startTemporal(port: number, uiPort: number): Promise<() => Promise<void>> {
  if (await portOpen(port)) {
    say(`a Temporal server already listens on 127.0.0.1:${port}: using it`);
    return async () => {};
  }
  const bin = await ensureTemporal({ log: say });
  const dbFile = path.join(DATA_DIR, 'temporal-demo.sqlite');
  if (bin) {
    say(`starting the Temporal dev server (${bin})`);
    const child: ChildProcess = spawn(bin, devServerArgs({ port, uiPort, dbFile }), { stdio: 'ignore' });
    for (let i = 0; i < 150 && !(await portOpen(port)); i++) await new Promise((r) => setTimeout(r, 200));
    if (!(await portOpen(port))) throw new Error(`the Temporal dev server did not open port ${port}`);
    return async () => {
      child.kill('SIGTERM');
    };
  }
  const env = await TestWorkflowEnvironment.createLocal({
    server: { ip: '127.0.0.1', port, ui: true, uiPort, dbFilename: dbFile },
  });
  return () => env.teardown();
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { exit: { type: 'boolean' }, invoices: { type: 'string' } },
  });
  mkdirSync(DATA_DIR, { recursive: true });
  const port = Number(process.env.TEMPORAL_PORT ?? 7233);
  const uiPort = Number(process.env.TEMPORAL_UI_PORT ?? 8233);
  process.env.SEVSYNC_SECRET_KEY = secretKey();
  process.env.TEMPORAL_ADDRESS ??= `127.0.0.1:${port}`;
  const config = loadConfig(process.env);

  const stopTemporal = await startTemporal(port, uiPort);
  say(`migrating ${config.databaseUrl.replace(/\/\/[^@]*@/, '//')}`);
  await migrateDatabase(config.migration?.databaseUrl ?? config.databaseUrl, {
    appRole: config.migration?.appRole,
  });

  const sandbox = await startSandbox({ seed: 2026, data: { invoices: Number(values.invoices ?? 600) } });
  say(
    `sevDesk sandbox at ${sandbox.url} with ${sandbox.store.invoiceCount()} invoices and ${sandbox.store.contactCount()} contacts`,
  );

  // As deployed: the syncs (and webhooks) and the imports in processes of their own (docs/deploys.md).
  const workers = await Promise.all([
    startWorkerProcess('worker', 'sync,webhooks'),
    startWorkerProcess('import-worker', 'imports'),
  ]);
  for (const w of workers) say(`${w.name} process (--queues ${w.queues}): ${w.polling} (log: ${w.log})`);

  const ops: AppDeps = await connectApp(config);
  if (await getStatus(ops, ACCOUNT).catch(() => undefined)) {
    await removeInterface(ops, ACCOUNT, true); // the sandbox is new each run: start the account fresh
  }
  say(`account "${ACCOUNT}" adds its sevDesk interface (token checked against sevDesk, stored encrypted)`);
  await addInterface(ops, {
    accountId: ACCOUNT,
    token: sandbox.token,
    baseUrl: sandbox.url,
    intervalSeconds: 30,
  });

  say('importing the invoice history ("Massenimport")');
  for (;;) {
    const s = await getStatus(ops, ACCOUNT);
    if (s.import)
      process.stdout.write(`\r    ${s.import.state} ${s.import.done}/${s.import.total ?? '?'} invoices   `);
    if (s.import?.state === 'done' && s.state === 'idle') break;
    await new Promise((r) => setTimeout(r, 300));
  }
  process.stdout.write('\n');

  say('meanwhile in sevDesk: a new invoice, a partial payment, a payment and a cancellation');
  const contact = [...sandbox.store.contacts()].find((c) =>
    sandbox.store.communicationWays(c.id).some((w) => w.type === 'EMAIL'),
  )!;
  const fresh = sandbox.store.addInvoice({ contactId: contact.id, sumNet: '1250', taxRate: 19 });
  sandbox.store.payInvoice(fresh.id, '500');
  const paid = sandbox.store.addInvoice({ contactId: contact.id, sumNet: '99.9', taxRate: 19 });
  sandbox.store.payInvoice(paid.id);
  const cancelled = sandbox.store.addInvoice({ contactId: contact.id, sumNet: '300', taxRate: 7 });
  sandbox.store.cancelInvoice(cancelled.id);
  const counts = await syncNow(ops, ACCOUNT, true);
  say(`sync-now: ${counts?.fetched ?? 0} invoices read, ${counts?.written ?? 0} rows written`);

  const customers = await getCustomers(ops, ACCOUNT);
  const shown = customers.filter((c) => c.invoices.length > 0);
  const top = [...shown].sort((a, b) => new Decimal(b.values.total).comparedTo(a.values.total)).slice(0, 5);
  const email = sandbox.store
    .communicationWays(contact.id)
    .find((w) => w.type === 'EMAIL')
    ?.value?.trim()
    .toLowerCase();
  const changed = customers.filter((c) => c.email === email);
  console.log('\nThe customer whose invoices just changed:\n');
  console.log(formatCustomers(changed, { maxInvoices: 8 }));
  console.log(`\nThe five most valuable of ${shown.length} customers with invoices:\n`);
  console.log(formatCustomers(top, { maxInvoices: 3 }));
  console.log(`\n${formatStatus(await getStatus(ops, ACCOUNT))}\n`);
  say(`Temporal web UI: http://127.0.0.1:${uiPort}/namespaces/${config.temporalNamespace}/workflows`);
  say(`try (in another terminal, while this runs): npx sevsync status --account ${ACCOUNT}`);
  say(`                                            npx sevsync customers --account ${ACCOUNT} --json`);
  say(`                                            npx sevsync events --account ${ACCOUNT} --follow`);

  const web = await startWeb(config, sandbox.url);
  const page = `/ui/accounts/${ACCOUNT}/interface`;
  const link = `${web.url}/ui/sign-in/link#${(await web.server.context.sessions.createLink(null, page)).code}`;
  say(`OneCockpit pages ("Mein Konto – Einstellungen – Schnittstellen"): ${web.url}${page}`);
  say(
    `  as OneCockpit embeds them (an embed token for ${ACCOUNT}, 1 hour): ${web.url}/ui/embed#${await web.embedToken(ACCOUNT)}`,
  );
  say(`  signed in through this one-time link (15 minutes): ${link}`);
  say(`  or sign in with the API token of this run: ${web.apiToken}`);
  say(`  to add an interface on the page, try ${web.url}/ui/accounts/demo-neu/interface`);
  say(`  with the sandbox's API-Token ${sandbox.token}`);
  say(`HTTP API: curl -H 'Authorization: Bearer ${web.apiToken}' ${web.url}/api/accounts/${ACCOUNT}/status`);
  say(`          OpenAPI: ${web.url}/api/openapi.json`);

  const stop = async () => {
    await web.close();
    await ops.close();
    await Promise.all(workers.map((w) => w.stop()));
    await sandbox.close();
    await stopTemporal();
  };
  if (values.exit) {
    await stop();
    return;
  }
  say('running (interval 30 s); Ctrl-C stops');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await stop();
}

const children = new Set<ChildProcess>();
// A demo that fails half-way leaves no worker behind.
process.on('exit', () => {
  for (const c of children) c.kill('SIGTERM');
});

interface WorkerProcess {
  name: string;
  queues: string;
  log: string;
  /** What it said once it polled: `worker polling task queue(s) …`. */
  polling: string;
  stop(): Promise<void>;
}

/** `sevsync worker --queues <queues>` in a process of its own (its output in .data/), once it polls. */
async function startWorkerProcess(name: string, queues: string): Promise<WorkerProcess> {
  const log = path.join(DATA_DIR, `demo-${name}.log`);
  const file = createWriteStream(log);
  const child = spawn(
    process.execPath,
    [path.resolve(__dirname, '..', 'bin', 'sevsync.cjs'), 'worker', '--queues', queues],
    {
      env: {
        ...process.env,
        SEVSYNC_LOG_FORMAT: 'json',
        SEVSYNC_SHUTDOWN_GRACE_SECONDS: process.env.SEVSYNC_SHUTDOWN_GRACE_SECONDS ?? '5',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.add(child);
  let out = '';
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  const polling = new Promise<string>((resolve) => {
    const take = (d: Buffer) => {
      file.write(d);
      out = (out + d.toString()).slice(-20_000);
      const line = out.split('\n').find((l) => l.includes('worker polling task queue'));
      if (line) resolve(/"msg":"([^"]*)"/.exec(line)?.[1] ?? 'polling');
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
  });
  const first = await Promise.race([polling, exited.then((code) => ({ code }))]);
  if (typeof first !== 'string')
    throw new Error(`the ${name} process exited (${first.code}) before polling:\n${out.slice(-2000)}`);
  return {
    name,
    queues,
    log: path.relative(process.cwd(), log),
    polling: first,
    stop: async () => {
      if (children.has(child)) child.kill('SIGTERM');
      // It lets running activities finish for the shutdown grace; after that and a margin, it is killed.
      const kill = setTimeout(() => child.kill('SIGKILL'), 30_000).unref();
      const code = await exited;
      clearTimeout(kill);
      file.end();
      if (code !== 0) say(`${name} exited with ${code}: see ${log}`);
    },
  };
}

/** `sevsync serve` in this process, on SEVSYNC_HTTP_PORT (default 8080, or any free port if taken). */
async function startWeb(
  config: ReturnType<typeof loadConfig>,
  sandboxUrl: string,
): Promise<RunningServer & { apiToken: string; embedToken(account: string): Promise<string> }> {
  const apiToken = process.env.SEVSYNC_API_TOKEN || randomBytes(24).toString('hex');
  // What OneCockpit's backend holds: the key it signs embed tokens with (docs/embedding.md).
  const embedSecret = randomBytes(32).toString('hex');
  const settings = { allowTokenSignIn: true, embed: { kind: 'secret', secret: embedSecret } as const };
  const embedToken = (account: string) =>
    new SignJWT({ account })
      .setProtectedHeader({ alg: 'HS256' })
      .setAudience('sevsync')
      .setSubject('demo-user')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(Buffer.from(embedSecret, 'utf8'));
  // Interfaces added on the page talk to the sandbox too.
  const webConfig = { ...config, sevdeskBaseUrl: sandboxUrl };
  const wanted = Number(process.env.SEVSYNC_HTTP_PORT ?? 8080);
  for (const port of [wanted, 0]) {
    try {
      const running = await startServe({ config: webConfig, host: '127.0.0.1', port, apiToken, settings });
      return { ...running, apiToken, embedToken };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw err;
      say(`port ${port} is taken: serving on a free port instead`);
    }
  }
  throw new Error('unreachable');
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
