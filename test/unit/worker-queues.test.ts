import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { workerConfig } from '../../src/cli/worker';
import { ConfigError, DEFAULT_OPS, loadConfig } from '../../src/config';
import { WORKER_QUEUES, parseWorkerQueues } from '../../src/worker/queues';

// `sevsync worker --queues` and SEVSYNC_WORKER_QUEUES: which task queues a worker process serves.

const root = path.resolve(__dirname, '../..');

const errorOf = (fn: () => unknown): Error => {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
};

describe('worker queues', () => {
  it('parses a comma-separated list: each queue once, in the order sync, imports, webhooks', () => {
    expect(parseWorkerQueues('imports')).toEqual({ ok: true, queues: ['imports'] });
    expect(parseWorkerQueues(' webhooks , sync ')).toEqual({ ok: true, queues: ['sync', 'webhooks'] });
    expect(parseWorkerQueues('imports,sync,imports,webhooks')).toEqual({
      ok: true,
      queues: ['sync', 'imports', 'webhooks'],
    });
    expect(parseWorkerQueues('sync,,imports,')).toEqual({ ok: true, queues: ['sync', 'imports'] });
  });

  it('refuses an unknown name or an empty list, naming the allowed values', () => {
    const bad = parseWorkerQueues('sync,import');
    expect(bad).toEqual({ ok: false, reason: expect.stringContaining('unknown queue "import"') });
    expect(!bad.ok && bad.reason).toContain('allowed: sync, imports, webhooks');
    expect(parseWorkerQueues('Sync')).toMatchObject({ ok: false });
    expect(parseWorkerQueues(' , ')).toEqual({
      ok: false,
      reason: expect.stringContaining('names no queue'),
    });
  });

  it('defaults to all three, as one process served them before', () => {
    expect(DEFAULT_OPS.workerQueues).toEqual([...WORKER_QUEUES]);
    expect(WORKER_QUEUES).toEqual(['sync', 'imports', 'webhooks']);
    expect(loadConfig({}).ops?.workerQueues).toEqual(['sync', 'imports', 'webhooks']);
    // An empty variable is an unset one, like every other.
    expect(loadConfig({ SEVSYNC_WORKER_QUEUES: '' }).ops?.workerQueues).toEqual([
      'sync',
      'imports',
      'webhooks',
    ]);
    expect(workerConfig(undefined, {}).ops?.workerQueues).toEqual(['sync', 'imports', 'webhooks']);
  });

  it('reads SEVSYNC_WORKER_QUEUES', () => {
    expect(loadConfig({ SEVSYNC_WORKER_QUEUES: 'imports' }).ops?.workerQueues).toEqual(['imports']);
    expect(workerConfig(undefined, { SEVSYNC_WORKER_QUEUES: 'webhooks,sync' }).ops?.workerQueues).toEqual([
      'sync',
      'webhooks',
    ]);
  });

  it('lets --queues win over SEVSYNC_WORKER_QUEUES, even over a wrong one', () => {
    const env = { SEVSYNC_WORKER_QUEUES: 'sync,webhooks', SEVSYNC_TASK_QUEUE: 'tq-x' };
    const c = workerConfig('imports', env);
    expect(c.ops?.workerQueues).toEqual(['imports']);
    // The rest of the configuration is the environment's.
    expect(c.taskQueue).toBe('tq-x');
    expect(c.ops).toEqual({ ...loadConfig(env).ops, workerQueues: ['imports'] });
    expect(workerConfig('sync', { SEVSYNC_WORKER_QUEUES: 'nonsense' }).ops?.workerQueues).toEqual(['sync']);
  });

  it('reports a wrong name as a configuration error naming the source and the allowed values', () => {
    const fromEnv = errorOf(() => loadConfig({ SEVSYNC_WORKER_QUEUES: 'sync,bulk' }));
    expect(fromEnv).toBeInstanceOf(ConfigError);
    expect(fromEnv.message).toContain('SEVSYNC_WORKER_QUEUES: unknown queue "bulk"');
    expect(fromEnv.message).toContain('sync, imports, webhooks');
    const fromFlag = errorOf(() => workerConfig('sync,webhook', {}));
    expect(fromFlag).toBeInstanceOf(ConfigError);
    expect(fromFlag.message).toContain('--queues: unknown queue "webhook"');
    expect(fromFlag.message).toContain('sync, imports, webhooks');
    expect(errorOf(() => workerConfig('', {}))).toBeInstanceOf(ConfigError);
  });

  it('`sevsync worker` with a wrong queue name exits 2 (flag) or 1 (environment) with the message, before connecting anywhere', () => {
    const run = (args: string[], env: Record<string, string> = {}) =>
      spawnSync(process.execPath, [path.join(root, 'bin/sevsync.cjs'), 'worker', ...args], {
        cwd: root,
        // Nothing listens there: a worker that started would fail differently.
        env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:9', SEVSYNC_WORKER_QUEUES: '', ...env },
        encoding: 'utf8',
        timeout: 60_000,
      });
    const flag = run(['--queues', 'sync,walks']);
    expect(flag.status).toBe(2);
    expect(flag.stderr).toContain('unknown queue "walks"; allowed: sync, imports, webhooks');
    const env = run([], { SEVSYNC_WORKER_QUEUES: 'imports,hooks' });
    expect(env.status).toBe(1);
    expect(env.stderr).toContain('SEVSYNC_WORKER_QUEUES: unknown queue "hooks"');
    const help = run(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--queues <list>');
  });
});
