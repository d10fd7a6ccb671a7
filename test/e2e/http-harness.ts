// The HTTP server as the e2e tests run it: the real application layer on the test database and Temporal
// server, sevDesk = a sandbox. One worker per test file; several servers may share it.
import { randomBytes } from 'node:crypto';
import type { AppDeps } from '../../src/app';
import { connectApp } from '../../src/app';
import type { Config } from '../../src/config';
import type { Sandbox } from '../../sandbox';
import type { SevsyncServer } from '../../src/server';
import { buildServer } from '../../src/server';
import { bindUseCases } from '../../src/server/app-binding';
import type { ServeSettings } from '../../src/server/settings';

export interface TestServer extends SevsyncServer {
  apiToken: string;
  deps: AppDeps;
  /** Set once listen() ran. */
  url: string;
  listen(): Promise<string>;
  close(): Promise<void>;
}

export async function startTestServer(
  config: Config,
  sandbox: Sandbox,
  settings: Partial<ServeSettings> = {},
): Promise<TestServer> {
  const apiToken = randomBytes(24).toString('hex');
  const deps = await connectApp({ ...config, sevdeskBaseUrl: sandbox.url }, { dbPoolSize: 4 });
  // The older tests sign in with the API token on the form and try many wrong tokens from one address;
  // the defaults (no token sign-in, 10 failures per address) have their own tests (embedding.test.ts).
  const server = await buildServer({
    useCases: bindUseCases(deps),
    apiToken,
    settings: { allowTokenSignIn: true, authFailuresPerAddress: 1000, ...settings },
  });
  const ts: TestServer = {
    ...server,
    apiToken,
    deps,
    url: '',
    listen: async () => {
      await server.app.listen({ host: '127.0.0.1', port: 0 });
      const addr = server.app.server.address();
      ts.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
      return ts.url;
    },
    close: async () => {
      await server.app.close();
      await deps.close();
    },
  };
  return ts;
}
