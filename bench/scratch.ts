import { closeDefaultDispatchers } from '../src/sevdesk/client';
import { runBaseline } from './import-baseline';
import { createDatabase, dropDatabase, startSandboxHost, log } from './infra';
import { readProc } from './proc-stats';

async function main() {
  const n = Number(process.argv[2] ?? 10000);
  const host = await startSandboxHost([{ seed: 7, invoices: n }]);
  const sb = host.sandboxes[0]!;
  log(`sandbox ${sb.url} ${sb.invoices} ${sb.contacts}`);
  const url = await createDatabase('scratch');
  const c0 = readProc(host.pid)!;
  const r = await runBaseline({
    databaseUrl: url,
    baseUrl: sb.url,
    token: sb.token,
    accountId: 'acct-base',
    invoices: sb.invoices,
  });
  const c1 = readProc(host.pid)!;
  console.log(r, 'sandbox cpu', c1.cpuSeconds - c0.cpuSeconds, 'rss', c1.rssBytes / 1e6);
  await dropDatabase(url);
  await host.stop();
  await closeDefaultDispatchers();
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
