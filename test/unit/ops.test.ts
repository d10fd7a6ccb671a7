import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_OPS, loadConfig } from '../../src/config';
import { createLogger, redactText } from '../../src/log';
import { configureMetrics, metrics, registry, statusClass } from '../../src/metrics';

const KEY = Buffer.alloc(32, 3).toString('base64');
const TOKEN = '0123456789abcdef0123456789abcdef';

describe('SEVSYNC_SECRET_KEY_FILE', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sevsync-ops-'));

  it('reads the key from the file (trailing newline and all)', () => {
    const file = path.join(dir, 'key');
    writeFileSync(file, `${KEY}\n`);
    expect(loadConfig({ SEVSYNC_SECRET_KEY_FILE: file }).secretKey).toEqual(Buffer.alloc(32, 3));
  });

  it('names the path, never the content, when the file is missing or wrong', () => {
    expect(() => loadConfig({ SEVSYNC_SECRET_KEY_FILE: path.join(dir, 'nope') })).toThrow(
      /SEVSYNC_SECRET_KEY_FILE: cannot read .*nope \(ENOENT\)/,
    );
    const bad = path.join(dir, 'bad');
    writeFileSync(bad, 'not-a-key-but-secret');
    const err = (() => {
      try {
        loadConfig({ SEVSYNC_SECRET_KEY_FILE: bad });
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain('SEVSYNC_SECRET_KEY');
    expect(err.message).not.toContain('not-a-key-but-secret');
  });

  it('refuses both the variable and the file', () => {
    const file = path.join(dir, 'key2');
    writeFileSync(file, KEY);
    expect(() => loadConfig({ SEVSYNC_SECRET_KEY: KEY, SEVSYNC_SECRET_KEY_FILE: file })).toThrow(/not both/);
  });
});

describe('ops settings', () => {
  it('defaults: no HTTP listener, 60 s statement timeout and shutdown grace', () => {
    expect(loadConfig({}).ops).toEqual(DEFAULT_OPS);
    expect(DEFAULT_OPS).toMatchObject({
      workerHttpPort: undefined,
      statementTimeoutMs: 60_000,
      shutdownGraceSeconds: 60,
      maxCachedWorkflows: 1000,
    });
  });

  it('keeps 1,000 workflows cached unless told otherwise (0 turns the cache off)', () => {
    expect(loadConfig({ SEVSYNC_MAX_CACHED_WORKFLOWS: '10000' }).ops?.maxCachedWorkflows).toBe(10_000);
    expect(loadConfig({ SEVSYNC_MAX_CACHED_WORKFLOWS: '0' }).ops?.maxCachedWorkflows).toBe(0);
    expect(() => loadConfig({ SEVSYNC_MAX_CACHED_WORKFLOWS: 'many' })).toThrow(
      /SEVSYNC_MAX_CACHED_WORKFLOWS/,
    );
  });

  it('runs workflow tasks on 2 threads unless told otherwise', () => {
    expect(loadConfig({}).ops?.workflowThreads).toBe(2);
    expect(loadConfig({ SEVSYNC_WORKFLOW_THREADS: '1' }).ops?.workflowThreads).toBe(1);
    expect(() => loadConfig({ SEVSYNC_WORKFLOW_THREADS: '0' })).toThrow(/SEVSYNC_WORKFLOW_THREADS/);
  });

  it('accepts only on or off for workflow stack traces (the patched SDK reads the variable itself)', () => {
    expect(() => loadConfig({ SEVSYNC_WORKFLOW_STACK_TRACES: 'on' })).not.toThrow();
    expect(() => loadConfig({ SEVSYNC_WORKFLOW_STACK_TRACES: 'true' })).toThrow(
      /SEVSYNC_WORKFLOW_STACK_TRACES/,
    );
  });

  it('reads and checks them', () => {
    const ops = loadConfig({
      SEVSYNC_WORKER_HTTP_PORT: '9464',
      SEVSYNC_WORKFLOW_BUNDLE: '/app/dist/workflow-bundle.js',
      SEVSYNC_DB_STATEMENT_TIMEOUT_MS: '5000',
      SEVSYNC_LOG_FORMAT: 'json',
    }).ops;
    expect(ops).toMatchObject({
      workerHttpPort: 9464,
      workflowBundlePath: '/app/dist/workflow-bundle.js',
      statementTimeoutMs: 5000,
      logFormat: 'json',
    });
    expect(() => loadConfig({ SEVSYNC_WORKER_HTTP_PORT: '70000' })).toThrow(/SEVSYNC_WORKER_HTTP_PORT/);
    expect(() => loadConfig({ SEVSYNC_LOG_FORMAT: 'xml' })).toThrow(/SEVSYNC_LOG_FORMAT/);
  });
});

describe('logs', () => {
  it('writes one JSON object per line with level, time and fields', () => {
    const lines: string[] = [];
    const log = createLogger({ format: 'json', write: (l) => lines.push(l), base: { service: 'x' } });
    log.info('hello', { accountId: 'acme', n: 1n });
    log.debug('hidden');
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 'INFO', msg: 'hello', service: 'x', accountId: 'acme', n: '1' });
    expect(Date.parse(String(entry['time']))).not.toBeNaN();
  });

  it('never prints a token, a secret field or a URL password', () => {
    const lines: string[] = [];
    const log = createLogger({ format: 'json', write: (l) => lines.push(l) });
    log.error(`sevDesk said no to ${TOKEN}`, {
      token: 'anything',
      headers: { authorization: TOKEN },
      url: 'postgres://sevsync:hunter2@db:5432/sevsync',
      error: new Error(`bad token ${TOKEN}`),
    });
    const out = lines.join('\n');
    expect(out).not.toContain(TOKEN);
    expect(out).not.toContain('hunter2');
    expect(out).not.toContain('anything');
    expect(out).toContain('postgres://sevsync:[redacted]@db:5432/sevsync');
    expect(redactText(`x ${TOKEN.toUpperCase()} y`)).toBe('x [redacted] y');
  });
});

describe('metrics', () => {
  afterEach(() => configureMetrics({ perAccount: false }));

  it('counts per account in the registry the worker serves (SEVSYNC_METRICS_PER_ACCOUNT=1)', async () => {
    configureMetrics({ perAccount: true });
    metrics.invoicesWritten.inc({ account: 'acme', source: 'sync' }, 3);
    metrics.sevdeskRequests.inc({ account: 'acme', status: statusClass(429) });
    const text = await registry.metrics();
    expect(text).toContain('sevsync_invoices_written_total{account="acme",source="sync"} 3');
    expect(text).toContain('sevsync_sevdesk_requests_total{account="acme",status="429"} 1');
    expect([statusClass(200), statusClass(503), statusClass(null)]).toEqual(['2xx', '5xx', 'none']);
  });
});
