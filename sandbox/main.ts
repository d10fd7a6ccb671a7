import { parseArgs } from 'node:util';
import { startSandbox } from './server';

// `npm run sandbox -- --port 4010 --invoices 5000 --seed 7 --token <32 hex>`: the sevDesk sandbox on its
// own, for the demo and manual poking. Stays up until Ctrl-C.

const USAGE =
  'usage: npm run sandbox -- [--port N] [--host H] [--invoices N] [--contacts N] [--seed N] [--token T]\n' +
  '       [--latency-ms MS] [--latency-per-object-ms MS]\n' +
  '  --latency-ms: fixed delay of every API answer; --latency-per-object-ms: plus this per object in it\n' +
  "  (e.g. --latency-ms 250 --latency-per-object-ms 0.4, the bench's assumed sevDesk; default no delay)";

function integer(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min) {
    console.error(`--${name} must be an integer >= ${min}\n${USAGE}`);
    process.exit(2);
  }
  return Number(value);
}

function milliseconds(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || v < 0 || v > 600_000) {
    console.error(`--${name} must be a number of milliseconds from 0 to 600000\n${USAGE}`);
    process.exit(2);
  }
  return v;
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
        'latency-ms': { type: 'string' },
        'latency-per-object-ms': { type: 'string' },
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
  const requestMs = milliseconds('latency-ms', values['latency-ms']);
  const perObjectMs = milliseconds('latency-per-object-ms', values['latency-per-object-ms']);
  const latency =
    requestMs === undefined && perObjectMs === undefined ? undefined : { requestMs, perObjectMs };
  const started = Date.now();
  const sandbox = await startSandbox({
    ...(latency ? { latency } : {}),
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
  if (latency)
    console.log(
      `  latency:  ${latency.requestMs ?? 0} ms per request + ${latency.perObjectMs ?? 0} ms per object`,
    );
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
