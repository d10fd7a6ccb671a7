// `sevsync serve [--port 8080] [--host 127.0.0.1] [--sign-in-link [account]]`.
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { loadConfig } from '../config';
import { startServe } from './serve';
import { serveSettingsFromEnv } from './settings';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535)
    throw new InvalidArgumentError('must be a port from 0 to 65535');
  return n;
}

export function addServeCommands(program: Command): void {
  program
    .command('serve')
    .description(
      'the HTTP API and the pages (Schnittstellen, Kunden); needs SEVSYNC_API_TOKENS (or an embed key) off loopback',
    )
    .option('--port <port>', 'TCP port (0: any free one)', port, 8080)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option(
      '--sign-in-link [account]',
      'print a one-time sign-in link (15 minutes; with an account: for that account only)',
    )
    .action(async (o: { port: number; host: string; signInLink?: string | true }) => {
      const running = await startServe({
        config: loadConfig(process.env),
        host: o.host,
        port: o.port,
        settings: serveSettingsFromEnv(process.env),
        logger: true,
      });
      console.error(`sevsync serve: listening on ${running.url} (API: ${running.url}/api/openapi.json)`);
      if (running.generatedToken)
        console.error(
          'no SEVSYNC_API_TOKENS set: the API answers only signed-in pages; set it to call the API',
        );
      if (o.signInLink !== undefined) {
        const account = o.signInLink === true ? undefined : o.signInLink;
        console.error(`sign in once (valid 15 minutes): ${await running.signInLink(account)}`);
      }
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await running.close();
    });
}
