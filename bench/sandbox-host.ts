import { startSandbox } from '../sandbox';
import type { Sandbox } from '../sandbox';
import type { LatencyProfile } from '../sandbox/server';

// Runs the sevDesk sandboxes of one bench phase in their own process, so that generating and serializing
// pages neither competes with the bench's own event loop nor hides in its CPU figures. Reads its plan as JSON
// from argv, answers with one JSON line on stdout, and serves until SIGTERM.

export interface SandboxSpec {
  seed: number;
  invoices: number;
  /** A sevDesk that takes its time (see SandboxOptions.latency); default none. */
  latency?: LatencyProfile;
}

export interface HostedSandbox {
  url: string;
  token: string;
  invoices: number;
  contacts: number;
}

async function main(): Promise<void> {
  const specs = JSON.parse(process.argv[2] ?? '[]') as SandboxSpec[];
  const sandboxes: Sandbox[] = [];
  for (const s of specs)
    sandboxes.push(
      await startSandbox({
        seed: s.seed,
        data: { invoices: s.invoices },
        ...(s.latency ? { latency: s.latency } : {}),
      }),
    );
  const ready: HostedSandbox[] = sandboxes.map((sb) => ({
    url: sb.url,
    token: sb.token,
    invoices: sb.store.invoiceCount(),
    contacts: sb.store.contactCount(),
  }));
  process.stdout.write(`${JSON.stringify({ ready })}\n`);
  process.once('SIGTERM', () => {
    void Promise.all(sandboxes.map((sb) => sb.close())).finally(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
