// The Temporal connection settings: TLS, mTLS, CA bundle, server name and API key from the environment, the
// options both kinds of connection take, what a child process inherits, and clear errors for a broken config
// that never show the API key.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, configEnv, loadConfig } from '../../src/config';
import {
  describeTemporalSecurity,
  parseTemporalSettings,
  temporalConnectionOptions,
  temporalEnv,
} from '../../src/temporal/connection';
import type { TestCerts } from '../helpers/tls-certs';
import { hasOpenssl, makeTestCerts } from '../helpers/tls-certs';

const API_KEY = 'tmprl-api-key.eyJhbGciOiJFUzI1NiJ9.secret-part-0123456789';
const parse = (env: NodeJS.ProcessEnv) => parseTemporalSettings(env, ConfigError);
const failure = (env: NodeJS.ProcessEnv): string => {
  try {
    parse(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('parseTemporalSettings', () => {
  it('is plain gRPC, no key and no encryption by default (a dev server)', () => {
    const s = parse({ TEMPORAL_TLS_CA: '' });
    expect(s).toEqual({
      tls: undefined,
      apiKey: undefined,
      encryptPayloads: false,
      codecCorsOrigin: undefined,
    });
    expect(temporalConnectionOptions('127.0.0.1:7233', s)).toEqual({ address: '127.0.0.1:7233' });
    expect(temporalConnectionOptions('127.0.0.1:7233', undefined)).toEqual({ address: '127.0.0.1:7233' });
    expect(describeTemporalSecurity(s)).toBe('plain gRPC');
  });

  it('TEMPORAL_TLS=1 is TLS with the system CAs', () => {
    const s = parse({ TEMPORAL_TLS: '1' });
    expect(temporalConnectionOptions('t.example:7233', s)).toEqual({ address: 't.example:7233', tls: {} });
  });

  it('an API key implies TLS, and is in the options but in no printed or serialised config', () => {
    const s = parse({ TEMPORAL_API_KEY: API_KEY, SEVSYNC_SECRET_KEY: 'x' });
    const opts = temporalConnectionOptions('eu-central-1.aws.api.temporal.io:7233', s);
    expect(opts).toEqual({ address: 'eu-central-1.aws.api.temporal.io:7233', tls: {}, apiKey: API_KEY });
    expect(JSON.stringify(s)).not.toContain(API_KEY);
    expect(JSON.stringify(loadConfig({ TEMPORAL_API_KEY: API_KEY }))).not.toContain(API_KEY);
    expect(describeTemporalSecurity(s)).toBe('TLS, API key');
    // A child process (a worker started by a test or bench) gets the same settings.
    expect(configEnv(loadConfig({ TEMPORAL_API_KEY: API_KEY }))).toMatchObject({
      TEMPORAL_TLS: '1',
      TEMPORAL_API_KEY: API_KEY,
      SEVSYNC_ENCRYPT_PAYLOADS: '0',
    });
  });

  it('refuses an API key that is not one word, without echoing it', () => {
    const msg = failure({ TEMPORAL_API_KEY: `Bearer ${API_KEY}` });
    expect(msg).toContain('TEMPORAL_API_KEY: must be one line without spaces');
    expect(msg).not.toContain(API_KEY);
    expect(failure({ TEMPORAL_API_KEY: API_KEY, TEMPORAL_TLS: '0' })).toContain(
      'TEMPORAL_API_KEY: is only sent over TLS, but TEMPORAL_TLS=0',
    );
  });

  it('names a key without a certificate, and a certificate without its key', () => {
    expect(failure({ TEMPORAL_TLS_KEY: '/etc/temporal/client.key' })).toContain(
      'TEMPORAL_TLS_KEY: is set without TEMPORAL_TLS_CERT: mTLS needs the certificate and its key',
    );
    expect(failure({ TEMPORAL_TLS_CERT: '/etc/temporal/client.pem' })).toContain(
      'TEMPORAL_TLS_CERT: is set without TEMPORAL_TLS_KEY',
    );
  });

  it('names a file it cannot read, and settings that contradict TEMPORAL_TLS=0', () => {
    expect(failure({ TEMPORAL_TLS_CA: '/nonexistent/ca.pem' })).toBe(
      'invalid configuration:\n  TEMPORAL_TLS_CA: cannot read /nonexistent/ca.pem (ENOENT)',
    );
    expect(failure({ TEMPORAL_TLS: 'false', TEMPORAL_TLS_SERVER_NAME: 'temporal.test' })).toContain(
      'TEMPORAL_TLS_SERVER_NAME: needs TLS, but TEMPORAL_TLS=false',
    );
    expect(failure({ TEMPORAL_TLS: 'yes' })).toContain('TEMPORAL_TLS:');
  });

  it('loadConfig throws the same ConfigError (the CLI reports it as a config error)', () => {
    expect(() => loadConfig({ TEMPORAL_TLS_KEY: '/k' })).toThrow(ConfigError);
  });

  it('needs a secret key for SEVSYNC_ENCRYPT_PAYLOADS and checks the codec CORS origin', () => {
    expect(failure({ SEVSYNC_ENCRYPT_PAYLOADS: '1' })).toContain(
      'SEVSYNC_ENCRYPT_PAYLOADS: payloads are encrypted with the secret key, and none is set',
    );
    const s = parse({
      SEVSYNC_ENCRYPT_PAYLOADS: 'true',
      SEVSYNC_SECRET_KEYS: 'k1:whatever',
      SEVSYNC_CODEC_CORS_ORIGIN: 'https://temporal-ui.example.com/',
    });
    expect(s.encryptPayloads).toBe(true);
    expect(s.codecCorsOrigin).toBe('https://temporal-ui.example.com');
    expect(failure({ SEVSYNC_CODEC_CORS_ORIGIN: 'https://ui.example.com/codec' })).toContain(
      'SEVSYNC_CODEC_CORS_ORIGIN: must be an origin',
    );
  });
});

describe.skipIf(!hasOpenssl())('parseTemporalSettings with certificate files (openssl)', () => {
  let certs: TestCerts;
  beforeAll(() => {
    certs = makeTestCerts();
  });
  afterAll(() => certs?.remove());

  it('reads mTLS, the CA bundle and the server name into what the SDK takes', () => {
    const env = {
      TEMPORAL_TLS_CERT: certs.clientCert,
      TEMPORAL_TLS_KEY: certs.clientKey,
      TEMPORAL_TLS_CA: certs.caCert,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.test',
    };
    const s = parse(env);
    const opts = temporalConnectionOptions('10.0.0.5:7233', s);
    expect(opts.tls?.serverNameOverride).toBe('temporal.test');
    expect(Buffer.from(opts.tls!.serverRootCACertificate!).toString()).toContain('BEGIN CERTIFICATE');
    expect(Buffer.from(opts.tls!.clientCertPair!.crt).toString()).toContain('BEGIN CERTIFICATE');
    expect(Buffer.from(opts.tls!.clientCertPair!.key).toString()).toContain('PRIVATE KEY');
    expect(describeTemporalSecurity(s)).toBe(`mTLS, CA ${certs.caCert}, server name temporal.test`);
    // The child process gets the paths, not the contents, and parses to the same settings.
    const childEnv = temporalEnv(s);
    expect(childEnv).toEqual({ TEMPORAL_TLS: '1', SEVSYNC_ENCRYPT_PAYLOADS: '0', ...env });
    expect(temporalConnectionOptions('10.0.0.5:7233', parse(childEnv))).toEqual(opts);
  });

  it('refuses a key of another certificate and files that are no PEM, without their content', () => {
    const msg = failure({ TEMPORAL_TLS_CERT: certs.clientCert, TEMPORAL_TLS_KEY: certs.otherKey });
    expect(msg).toBe(
      `invalid configuration:\n  TEMPORAL_TLS_KEY: ${certs.otherKey} is not the key of the certificate in ` +
        `TEMPORAL_TLS_CERT (${certs.clientCert})`,
    );
    const junk = path.join(certs.dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate');
    expect(failure({ TEMPORAL_TLS_CA: junk })).toBe(
      `invalid configuration:\n  TEMPORAL_TLS_CA: ${junk} is not a PEM certificate`,
    );
    expect(failure({ TEMPORAL_TLS_CERT: certs.clientCert, TEMPORAL_TLS_KEY: junk })).toBe(
      `invalid configuration:\n  TEMPORAL_TLS_KEY: ${junk} is not an unencrypted PEM private key`,
    );
    expect(failure({ TEMPORAL_TLS_CERT: certs.clientKey, TEMPORAL_TLS_KEY: certs.clientKey })).toContain(
      'TEMPORAL_TLS_CERT: ' + certs.clientKey + ' is not a PEM certificate',
    );
  });
});
