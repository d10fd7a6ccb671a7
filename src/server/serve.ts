// Starts the HTTP server on the application's dependencies (the entrypoint for `sevsync serve` and the demo).
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { connectApp } from '../app';
import type { Config } from '../config';
import { bindUseCases } from './app-binding';
import { codecEndpointOptions } from './codec';
import type { SevsyncServer } from './index';
import { buildServer, checkServeSettings } from './index';
import type { ServeSettings } from './settings';
import { DEFAULT_SERVE_SETTINGS } from './settings';

export interface ServeOptions {
  config: Config;
  host: string;
  port: number;
  /** One API token besides `settings.apiTokens` (the demo's); on a loopback host none is needed. */
  apiToken?: string | undefined;
  settings?: Partial<ServeSettings>;
  logger?: boolean;
}

export interface RunningServer {
  url: string;
  server: SevsyncServer;
  /** True when no API token was given (loopback only): the API then answers only signed-in pages. */
  generatedToken: boolean;
  /** A one-time sign-in link (15 minutes); with an account, the session sees only that account. */
  signInLink(account?: string): Promise<string>;
  close(): Promise<void>;
}

const urlHost = (host: string) => (host.includes(':') ? `[${host}]` : host);

export async function startServe(opts: ServeOptions): Promise<RunningServer> {
  const given = [...(opts.settings?.apiTokens ?? []), ...(opts.apiToken ? [opts.apiToken] : [])];
  checkServeSettings({ host: opts.host, apiTokens: given, embed: opts.settings?.embed !== undefined });
  const apiTokens = given.length > 0 ? given : [randomBytes(32).toString('hex')];
  const deps = await connectApp(opts.config, { dbPoolSize: 5 });
  const useCases = bindUseCases(deps);
  let server: SevsyncServer;
  try {
    server = await buildServer({
      useCases,
      settings: { ...DEFAULT_SERVE_SETTINGS, ...opts.settings, apiTokens },
      codec: codecEndpointOptions(opts.config),
      logger: opts.logger ?? false,
    });
    await server.app.listen({ host: opts.host, port: opts.port });
  } catch (err) {
    await deps.close();
    throw err;
  }
  const addr = server.app.server.address() as AddressInfo;
  const local = `http://${urlHost(opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host)}:${addr.port}`;
  const url = server.context.settings.publicOrigin ?? local;
  return {
    url,
    server,
    generatedToken: given.length === 0,
    signInLink: async (account) => {
      const next = account ? `/ui/accounts/${encodeURIComponent(account)}/interface` : '/ui/';
      const link = await server.context.sessions.createLink(account ?? null, next);
      return `${url}/ui/sign-in/link#${link.code}`;
    },
    close: async () => {
      await server.app.close();
      await deps.close();
    },
  };
}
