import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';

// Where the CLI takes a sevDesk API token from. Never from a literal we recommend: standard input
// (`--token -`), a file (`--token-file F`) or the environment (SEVDESK_TOKEN) keep it out of shell history
// and `ps`. A literal `--token` value still works for old scripts, but nothing suggests it.

export const TOKEN_SOURCES = '--token - (standard input), --token-file F or SEVDESK_TOKEN';

/** commander parser for `--token`: '-' reads standard input. */
export function tokenArg(value: string): string {
  if (value === '-') return readFileSync(0, 'utf8').trim();
  console.error(
    'warning: a token typed on the command line stays in the shell history and is visible in `ps`; ' +
      `next time use ${TOKEN_SOURCES}`,
  );
  return value.trim();
}

/** commander parser for `--token-file`: the file's content, trimmed; errors never show the content. */
export function tokenFileArg(path: string): string {
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InvalidArgumentError(
      `cannot read the token file (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  const t = content.trim();
  if (!t) throw new InvalidArgumentError('the token file is empty');
  return t;
}

export interface TokenOptions {
  token?: string;
  tokenFile?: string;
}

/** The token given by option or, if `useEnv`, by SEVDESK_TOKEN; undefined when none. Two sources are an error. */
export function resolveToken(o: TokenOptions, env: NodeJS.ProcessEnv, useEnv: boolean): string | undefined {
  if (o.token !== undefined && o.tokenFile !== undefined)
    throw new InvalidArgumentError('give the token once: either --token - or --token-file');
  const fromEnv = useEnv ? env.SEVDESK_TOKEN?.trim() || undefined : undefined;
  return o.token ?? o.tokenFile ?? fromEnv;
}
