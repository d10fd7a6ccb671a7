// `sevsync serve [--port 8080] [--host 127.0.0.1]`.
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { z } from 'zod';
import { loadConfig } from '../config';
import { startServe } from './serve';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535)
    throw new InvalidArgumentError('must be a port from 0 to 65535');
  return n;
}

/** SEVSYNC_API_TOKEN, parsed at the entrypoint like the rest of the configuration. */
export function apiTokenFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const v = env.SEVSYNC_API_TOKEN?.trim();
  return z
    .string()
    .min(1)
    .optional()
    .parse(v === '' ? undefined : v);
}

export function addServeCommands(program: Command): void {
  program
    .command('serve')
    .description('the HTTP API and the pages (Schnittstellen, Kunden); needs SEVSYNC_API_TOKEN off loopback')
    .option('--port <port>', 'TCP port (0: any free one)', port, 8080)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action(async (o: { port: number; host: string }) => {
      const running = await startServe({
        config: loadConfig(process.env),
        host: o.host,
        port: o.port,
        apiToken: apiTokenFromEnv(process.env),
        logger: true,
      });
      console.error(`sevsync serve: listening on ${running.url} (API: ${running.url}/api/openapi.json)`);
      if (running.generatedToken)
        console.error(
          'no SEVSYNC_API_TOKEN set: the API answers only signed-in pages; set it to call the API',
        );
      console.error(`sign in once (valid 15 minutes): ${running.signInLink()}`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await running.close();
    });
}
