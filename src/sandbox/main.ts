import { parseArgs } from 'node:util';
import { startSandbox } from './server';

// `npm run sandbox -- --port 4010 --invoices 5000 --seed 7 --token <32 hex>`: the sevDesk sandbox on its
// own, for the demo and manual poking. Stays up until Ctrl-C.

const USAGE =
  'usage: npm run sandbox -- [--port N] [--host H] [--invoices N] [--contacts N] [--seed N] [--token T]';

function integer(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min) {
    console.error(`--${name} must be an integer >= ${min}\n${USAGE}`);
    process.exit(2);
  }
  return Number(value);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        invoices: { type: 'string' },
        contacts: { type: 'string' },
        seed: { type: 'string' },
        token: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const invoices = integer('invoices', values.invoices, 0);
  const contacts = integer('contacts', values.contacts, 1);
  const started = Date.now();
  const sandbox = await startSandbox({
    host: values.host,
    port: integer('port', values.port, 0),
    seed: integer('seed', values.seed, 0),
    token: values.token,
    data: invoices === undefined ? undefined : { invoices, ...(contacts === undefined ? {} : { contacts }) },
  });
  console.log(`sevDesk sandbox ready in ${Date.now() - started} ms`);
  console.log(`  url:      ${sandbox.url}`);
  console.log(`  token:    ${sandbox.token}`);
  console.log(`  invoices: ${sandbox.store.invoiceCount()}, contacts: ${sandbox.store.contactCount()}`);
  console.log(`  control:  ${sandbox.url.replace(/\/api\/v1$/, '')}/__sandbox/ (loopback only)`);
  console.log(
    `  try:      curl -H 'Authorization: ${sandbox.token}' '${sandbox.url}/Invoice?limit=2&countAll=true'`,
  );

  const stop = (): void => {
    console.log('stopping sandbox');
    sandbox.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
