// Starts the HTTP server on the application's dependencies (the entrypoint for `sevsync serve` and the demo).
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { connectApp } from '../app';
import type { Config } from '../config';
import { bindUseCases } from './app-binding';
import type { SevsyncServer } from './index';
import { buildServer, checkServeSettings } from './index';

export interface ServeOptions {
  config: Config;
  host: string;
  port: number;
  /** SEVSYNC_API_TOKEN; on a loopback host a random one is made when absent. */
  apiToken: string | undefined;
  logger?: boolean;
}

export interface RunningServer {
  url: string;
  server: SevsyncServer;
  /** True when no SEVSYNC_API_TOKEN was given (loopback only): the API then answers only signed-in pages. */
  generatedToken: boolean;
  /** A one-time sign-in link (15 minutes); with an account, the session sees only that account. */
  signInLink(account?: string): string;
  close(): Promise<void>;
}

const urlHost = (host: string) => (host.includes(':') ? `[${host}]` : host);

export async function startServe(opts: ServeOptions): Promise<RunningServer> {
  checkServeSettings({ host: opts.host, apiToken: opts.apiToken });
  const apiToken = opts.apiToken ?? randomBytes(32).toString('hex');
  const deps = await connectApp(opts.config, { dbPoolSize: 5 });
  const useCases = bindUseCases(deps);
  let server: SevsyncServer;
  try {
    server = await buildServer({ useCases, apiToken, logger: opts.logger ?? false });
    await server.app.listen({ host: opts.host, port: opts.port });
  } catch (err) {
    await deps.close();
    throw err;
  }
  const addr = server.app.server.address() as AddressInfo;
  const url = `http://${urlHost(opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host)}:${addr.port}`;
  return {
    url,
    server,
    generatedToken: opts.apiToken === undefined,
    signInLink: (account) => {
      const next = account ? `/ui/accounts/${encodeURIComponent(account)}/interface` : '/ui/';
      return `${url}/ui/sign-in/link#${server.sessions.createLink(account ?? null, next).code}`;
    },
    close: async () => {
      await server.app.close();
      await deps.close();
    },
  };
}
