// A webhook receiver for the tests: answers per path as told (an HTTP status, or no answer at all), records
// every request, and verifies each signature with the `standardwebhooks` package.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  path: string;
  id: string;
  body: string;
  /** The parsed event when the signature verified; undefined when it did not (or no secret was known). */
  event?: { id: string; seq: number; type: string; account: string | null; data: Record<string, unknown> };
  verified: boolean;
  status: number;
}

/** What to answer the n-th request (from 0) to a path: a status, or 'hang' (no answer). */
export type Behaviour = (n: number) => number | 'hang';

export interface Receiver {
  url(path: string): string;
  /** The endpoint's secret, so the receiver can verify what comes for that path. */
  secret(path: string, secret: string): void;
  behave(path: string, b: Behaviour): void;
  received(path: string): Received[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const secrets = new Map<string, string>();
  const behaviours = new Map<string, Behaviour>();
  const counts = new Map<string, number>();
  const log = new Map<string, Received[]>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const n = counts.get(path) ?? 0;
      counts.set(path, n + 1);
      const answer = (behaviours.get(path) ?? (() => 200))(n);
      const body = Buffer.concat(chunks).toString('utf8');
      const secret = secrets.get(path);
      let event: Received['event'];
      if (secret) {
        try {
          event = new Webhook(secret).verify(
            body,
            req.headers as Record<string, string>,
          ) as Received['event'];
        } catch {
          event = undefined;
        }
      }
      const entry: Received = {
        path,
        id: String(req.headers['webhook-id']),
        body,
        verified: event !== undefined,
        status: answer === 'hang' ? 0 : answer,
        ...(event ? { event } : {}),
      };
      (log.get(path) ?? log.set(path, []).get(path)!).push(entry);
      if (answer === 'hang') return;
      res.writeHead(answer, { 'content-type': 'text/plain' }).end(answer < 300 ? 'ok' : `no (${answer})`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: (path) => `${base}${path}`,
    secret: (path, s) => void secrets.set(path, s),
    behave: (path, b) => void behaviours.set(path, b),
    received: (path) => log.get(path) ?? [],
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/**
 * Checks one account's deliveries: in arrival order, never ahead of the next expected seq (no gap), every
 * seq from `from` to `to` (duplicates allowed). Returns the first problem, or undefined.
 */
export function orderProblem(seqs: number[], from: number, to: number): string | undefined {
  let high = from - 1;
  for (const [i, s] of seqs.entries()) {
    if (s > high + 1) return `arrival ${i}: seq ${s} before ${high + 1} (a gap)`;
    if (s < from || s > to) return `arrival ${i}: seq ${s} outside ${from}..${to}`;
    high = Math.max(high, s);
  }
  return high === to ? undefined : `only up to seq ${high} of ${to}`;
}
