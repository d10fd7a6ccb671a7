import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { searchAttributeArgs } from '../shared/search-attributes';

/** The newest tag that `go install` accepts: later tags carry a `replace` directive that it refuses. */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Shared by every clone on the machine, so CI and the demo reuse one build. */
export function userCacheBinDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'sevsync', 'bin');
}

export function candidatePaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const exe = process.platform === 'win32' ? 'temporal.exe' : 'temporal';
  const out: string[] = [];
  if (env.SEVSYNC_TEMPORAL_BIN) out.push(env.SEVSYNC_TEMPORAL_BIN);
  for (const dir of (env.PATH ?? '').split(path.delimiter)) if (dir) out.push(path.join(dir, exe));
  out.push(path.join(REPO_ROOT, '.cache', 'bin', exe), path.join(userCacheBinDir(env), exe));
  return out;
}

/** The first working `temporal` binary: $SEVSYNC_TEMPORAL_BIN, PATH, the project cache, the user cache. */
export function findTemporal(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const candidate of candidatePaths(env)) {
    if (!existsSync(candidate)) continue;
    const res = spawnSync(candidate, ['--version'], { encoding: 'utf8', timeout: 15_000 });
    if (res.status === 0 && /temporal version/i.test(res.stdout)) return candidate;
  }
  return undefined;
}

export function hasGo(): boolean {
  return spawnSync('go', ['version'], { encoding: 'utf8' }).status === 0;
}

/**
 * Finds the Temporal CLI or builds it with `go install` into the user cache. Returns undefined when neither a
 * binary nor Go is available: callers then fall back to the SDK's own download.
 */
export async function ensureTemporal(
  opts: { log?: (msg: string) => void } = {},
): Promise<string | undefined> {
  const log = opts.log ?? (() => {});
  const found = findTemporal();
  if (found) return found;
  if (!hasGo()) {
    log('temporal CLI not found and Go is not installed: falling back to the Temporal SDK download');
    return undefined;
  }
  const bin = userCacheBinDir();
  await mkdir(bin, { recursive: true });
  log(
    `installing the Temporal CLI: go install ${TEMPORAL_CLI_MODULE} (GOBIN=${bin}); this takes a few minutes once`,
  );
  const started = Date.now();
  await promisify(execFile)('go', ['install', TEMPORAL_CLI_MODULE], {
    env: { ...process.env, GOBIN: bin },
    maxBuffer: 64 * 1024 * 1024,
  });
  log(`installed the Temporal CLI in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const installed = findTemporal();
  if (!installed) throw new Error(`go install finished but no working temporal binary is in ${bin}`);
  return installed;
}

export interface DevServerArgs {
  ip?: string;
  port: number;
  uiPort?: number;
  dbFile?: string;
  namespace?: string;
  logLevel?: string;
}

/** Arguments for `temporal server start-dev`; SQLite in WAL mode when persisted to a file. */
export function devServerArgs(a: DevServerArgs): string[] {
  const args = ['server', 'start-dev', '--ip', a.ip ?? '127.0.0.1', '--port', String(a.port)];
  args.push('--namespace', a.namespace ?? 'default', '--log-level', a.logLevel ?? 'warn');
  args.push(...searchAttributeArgs());
  if (a.uiPort) args.push('--ui-port', String(a.uiPort));
  else args.push('--headless');
  if (a.dbFile) {
    args.push('--db-filename', a.dbFile);
    args.push('--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal');
  }
  return args;
}
