// `npm run bench:worker-start [-- --rounds N]`: how long `sevsync worker` takes from spawn until it polls,
// with the prebuilt workflow bundle (SEVSYNC_WORKFLOW_BUNDLE, what the image ships) and with bundling at
// start (webpack in every replica, the old image). Rounds alternate the two so machine load hits both.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  BENCH_SECRET_KEY,
  buildWorkflowBundle,
  createDatabase,
  dropDatabase,
  log,
  startTemporal,
  stopAllChildren,
} from './infra';

const REPO = path.resolve(__dirname, '..');

async function startOnce(env: NodeJS.ProcessEnv): Promise<{ wallMs: number; rssMb: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [path.join(REPO, 'bin', 'sevsync.cjs'), 'worker'], {
    cwd: REPO,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const wallMs = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start within 180 s:\n${out.slice(-2000)}`)), 180_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('worker polling task queue')) {
        clearTimeout(timer);
        resolve(performance.now() - started);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => reject(new Error(`the worker exited (${code}):\n${out.slice(-2000)}`)));
  });
  const rssKb = await new Promise<number>((resolve) => {
    const ps = spawn('ps', ['-o', 'rss=', '-p', String(child.pid)]);
    let v = '';
    ps.stdout.on('data', (d: Buffer) => (v += d.toString()));
    ps.once('exit', () => resolve(Number(v.trim()) || 0));
  });
  child.kill('SIGTERM');
  await exited;
  return { wallMs, rssMb: rssKb / 1024 };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string' } } });
  const rounds = Number(values.rounds ?? 3);
  const temporal = await startTemporal();
  const databaseUrl = await createDatabase('start');
  const bundle = await buildWorkflowBundle();
  const base: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: 'default',
    SEVSYNC_SECRET_KEY: BENCH_SECRET_KEY.toString('base64'),
    SEVSYNC_LOG_FORMAT: 'json',
  };
  const results: Record<'prebuilt' | 'bundle at start', { wallMs: number; rssMb: number }[]> = {
    prebuilt: [],
    'bundle at start': [],
  };
  try {
    for (let i = 0; i < rounds; i++) {
      for (const mode of i % 2
        ? (['bundle at start', 'prebuilt'] as const)
        : (['prebuilt', 'bundle at start'] as const)) {
        const env: NodeJS.ProcessEnv = {
          ...base,
          SEVSYNC_TASK_QUEUE: `bench-start-${i}-${mode.replace(/ /g, '-')}`,
        };
        if (mode === 'prebuilt') env.SEVSYNC_WORKFLOW_BUNDLE = bundle.path;
        const r = await startOnce(env);
        results[mode].push(r);
        log(`round ${i + 1} ${mode}: ${Math.round(r.wallMs)} ms, RSS ${Math.round(r.rssMb)} MB`);
      }
    }
  } finally {
    bundle.remove();
    await dropDatabase(databaseUrl);
    await stopAllChildren();
  }
  console.log(`worker start, spawn to "worker polling task queue", ${rounds} rounds each (median; min-max):`);
  for (const [mode, rs] of Object.entries(results)) {
    const ms = rs.map((r) => r.wallMs);
    console.log(
      `  ${mode.padEnd(16)} ${Math.round(median(ms))} ms (${Math.round(Math.min(...ms))}-${Math.round(Math.max(...ms))}), RSS at start ${Math.round(median(rs.map((r) => r.rssMb)))} MB`,
    );
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    void stopAllChildren().finally(() => process.exit(1));
  },
);
