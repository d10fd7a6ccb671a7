import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, requireKeyring, requireSecretKey } from '../../src/config';
import { keyId } from '../../src/secrets';

describe('loadConfig', () => {
  it('has the defaults the README lists (Configuration)', () => {
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

  it('reads several keys for rotation: the first encrypts, SEVSYNC_SECRET_KEY joins as a decrypting key', () => {
    const a = Buffer.alloc(32, 1).toString('base64');
    const b = Buffer.alloc(32, 2).toString('base64');
    const c = Buffer.alloc(32, 3);
    const cfg = loadConfig({
      SEVSYNC_SECRET_KEYS: `new:${b}, old:${a}`,
      SEVSYNC_SECRET_KEY: c.toString('base64'),
    });
    const ring = requireKeyring(cfg);
    expect(ring.current.id).toBe('new');
    expect(ring.keys.map((k) => k.id)).toEqual(['new', 'old', keyId(c)]);
    expect(cfg.secretKey?.equals(Buffer.alloc(32, 2))).toBe(true);
    // SEVSYNC_SECRET_KEY alone still works, named by its hash.
    expect(requireKeyring(loadConfig({ SEVSYNC_SECRET_KEY: c.toString('base64') })).current.id).toBe(
      keyId(c),
    );
    expect(() => requireKeyring(loadConfig({}))).toThrow(/SEVSYNC_SECRET_KEY is not set/);
  });

  it('names a bad key list without echoing it', () => {
    const a = Buffer.alloc(32, 1).toString('base64');
    for (const bad of [`k1:${a},k2:c2hvcnQ=`, `k1:${a},k1:${a}`, 'justakey', ',']) {
      let msg = '';
      try {
        loadConfig({ SEVSYNC_SECRET_KEYS: bad });
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        msg = (e as Error).message;
      }
      expect(msg, bad).toContain('SEVSYNC_SECRET_KEYS');
      expect(msg).not.toContain(a);
      expect(msg).not.toContain('c2hvcnQ=');
    }
  });

  it('refuses a sevDesk base URL that is not https (plain http only on loopback)', () => {
    expect(() => loadConfig({ SEVDESK_BASE_URL: 'http://my.sevdesk.de/api/v1' })).toThrow(
      /SEVDESK_BASE_URL: must use https:\/\//,
    );
    expect(loadConfig({ SEVDESK_BASE_URL: 'http://127.0.0.1:4010/api/v1/' }).sevdeskBaseUrl).toBe(
      'http://127.0.0.1:4010/api/v1',
    );
  });
});
