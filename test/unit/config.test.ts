import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, requireSecretKey } from '../../src/config';

describe('loadConfig', () => {
  it('has the defaults of DESIGN.md', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/sevsync',
      temporalAddress: '127.0.0.1:7233',
      temporalNamespace: 'default',
      taskQueue: 'sevsync',
      sevdeskBaseUrl: 'https://my.sevdesk.de/api/v1',
      syncIntervalSeconds: 300,
    });
    expect(c.secretKey).toBeUndefined();
  });

  it('names every wrong variable', () => {
    let err: unknown;
    try {
      loadConfig({ TEMPORAL_ADDRESS: 'nohost', SEVSYNC_SECRET_KEY: 'c2hvcnQ=', DATABASE_URL: 'mysql://x' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain('TEMPORAL_ADDRESS: must be host:port');
    expect(msg).toContain('SEVSYNC_SECRET_KEY: must be 32 bytes, base64-encoded');
    expect(msg).toContain('DATABASE_URL: must be a postgres:// URL');
    // The value of a secret is never echoed.
    expect(msg).not.toContain('c2hvcnQ=');
  });

  it('parses a valid key and explains a missing one', () => {
    const key = Buffer.alloc(32, 1).toString('base64');
    expect(loadConfig({ SEVSYNC_SECRET_KEY: key }).secretKey?.length).toBe(32);
    expect(() => requireSecretKey(loadConfig({}))).toThrow(/SEVSYNC_SECRET_KEY is not set/);
  });

  it('rejects a bad interval and treats empty strings as unset', () => {
    expect(() => loadConfig({ SEVSYNC_SYNC_INTERVAL_SECONDS: '0' })).toThrow(/SEVSYNC_SYNC_INTERVAL_SECONDS/);
    expect(loadConfig({ TEMPORAL_ADDRESS: '' }).temporalAddress).toBe('127.0.0.1:7233');
  });
});
