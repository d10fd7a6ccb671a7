// The remote codec endpoint for the Temporal UI on a bare Fastify app whose hook stands in for the server's
// auth (src/server/index.ts): the API token decodes and encodes, a session may not, preflights are public,
// and only the configured UI origin gets CORS headers.
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyring } from '../../src/secrets';
import { codecEndpointOptions, registerCodecEndpoint } from '../../src/server/codec';
import { KeyringPayloadCodec } from '../../src/temporal/codec';

/** The server's principal (src/server/auth.ts), whatever fields it has beyond account and via. */
type Principal = NonNullable<FastifyRequest['principal']>;

const UI = 'https://temporal-ui.example.com';
const key = { id: 'k1', key: randomBytes(32) };
const codec = new KeyringPayloadCodec(createKeyring([key]));
const b64 = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('base64');
const asJson = (v: unknown) => {
  const p = defaultPayloadConverter.toPayload(v);
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, x]) => [k, b64(x)])),
    data: b64(p.data),
  };
};
const fromJson = (p: { metadata: Record<string, string>; data?: string }) =>
  defaultPayloadConverter.fromPayload({
    metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, x]) => [k, Buffer.from(x, 'base64')])),
    data: Buffer.from(p.data ?? '', 'base64'),
  });

const API = { authorization: 'Bearer api-token', 'x-namespace': 'default' };
const SESSION = { authorization: 'Bearer session-of-acct-1' };

let app: FastifyInstance;
beforeAll(async () => {
  // The real server's limit is 64 KiB; the codec routes take more.
  app = Fastify({ bodyLimit: 64 * 1024 });
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (req, reply) => {
    const auth = req.headers.authorization;
    if (auth === API.authorization)
      req.principal = { account: null, via: 'bearer', actor: 'api-token' } as Principal;
    if (auth === SESSION.authorization)
      req.principal = { account: 'acct-1', via: 'session', actor: 'session:acct-1' } as Principal;
    if (!req.routeOptions.config.public && !req.principal)
      return reply.code(401).send({ error: { type: 'unauthorized', message: 'sign in' } });
  });
  registerCodecEndpoint(app, { codec, corsOrigin: UI });
  await app.ready();
});
afterAll(() => app.close());

const post = (op: string, payloads: unknown[], headers: Record<string, string> = API) =>
  app.inject({ method: 'POST', url: `/codec/${op}`, headers, payload: { payloads } });

describe('POST /codec/encode and /codec/decode', () => {
  it('encrypts with the keyring and decrypts back (what the UI shows)', async () => {
    const secret = { email: 'anna.schmidt@example.de', message: 'Authentication required' };
    const enc = await post('encode', [asJson(secret), asJson(42)]);
    expect(enc.statusCode).toBe(200);
    const encrypted = enc.json<{ payloads: { metadata: Record<string, string>; data: string }[] }>().payloads;
    expect(Buffer.from(encrypted[0]!.metadata['encoding']!, 'base64').toString()).toBe('binary/encrypted');
    expect(Buffer.from(encrypted[0]!.data, 'base64').toString()).not.toContain('anna.schmidt');
    const dec = await post('decode', encrypted);
    expect(dec.statusCode).toBe(200);
    expect(dec.json<{ payloads: never[] }>().payloads.map(fromJson)).toEqual([secret, 42]);
  });

  it('passes plain payloads through, and takes bodies beyond the server-wide limit', async () => {
    const big = { text: 'x'.repeat(200_000) };
    const res = await post('decode', [asJson(big), { metadata: {} }]);
    expect(res.statusCode).toBe(200);
    const out = res.json<{ payloads: { metadata: Record<string, string>; data?: string }[] }>().payloads;
    expect(fromJson(out[0]!)).toEqual(big);
    expect(out[1]).toEqual({ metadata: {} });
  });

  it('refuses a session (403) and no credentials (401, with CORS so the UI can show it)', async () => {
    const bySession = await post('decode', [], SESSION);
    expect(bySession.statusCode).toBe(403);
    expect(bySession.json()).toEqual({
      error: {
        type: 'forbidden',
        message: 'the codec endpoint takes the API token only (Authorization: Bearer <token>)',
      },
    });
    const anonymous = await post('decode', [], { origin: UI });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['access-control-allow-origin']).toBe(UI);
  });

  it('says what is wrong with a body, and which key a payload needs, never a key', async () => {
    const bad = await post('decode', [{ metadata: { encoding: 'not base64!' } }]);
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ error: { type: string; message: string } }>().error.type).toBe('invalid_input');
    const other = new KeyringPayloadCodec(createKeyring([{ id: 'retired', key: randomBytes(32) }]));
    const [foreign] = await other.encode([defaultPayloadConverter.toPayload('x')]);
    const res = await post('decode', [
      {
        metadata: Object.fromEntries(Object.entries(foreign!.metadata!).map(([k, x]) => [k, b64(x)])),
        data: b64(foreign!.data),
      },
    ]);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: {
        type: 'decode_failed',
        message:
          'a payload was encrypted with key retired, which is not among the configured keys (k1); ' +
          'add it to SEVSYNC_SECRET_KEYS',
      },
    });
    expect(res.body).not.toContain(key.key.toString('base64'));
  });
});

describe('CORS for the Temporal UI', () => {
  const preflight = (origin: string) =>
    app.inject({
      method: 'OPTIONS',
      url: '/codec/decode',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-namespace,authorization',
      },
    });

  it('answers the preflight of the configured origin without credentials', async () => {
    const res = await preflight(UI);
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(UI);
    expect(res.headers['access-control-allow-methods']).toBe('POST, OPTIONS');
    expect(String(res.headers['access-control-allow-headers']).toLowerCase().split(', ')).toEqual(
      expect.arrayContaining(['content-type', 'authorization', 'x-namespace']),
    );
  });

  it('gives other origins no CORS headers', async () => {
    const res = await preflight('https://evil.example');
    expect(res.statusCode).toBe(403);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const post2 = await post('decode', [], { ...API, origin: 'https://evil.example' });
    expect(post2.headers['access-control-allow-origin']).toBeUndefined();
    const ok = await post('decode', [], { ...API, origin: UI });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe(UI);
    expect(ok.headers['vary']).toContain('Origin');
  });
});

describe('codecEndpointOptions', () => {
  it('is there only while payloads are encrypted', () => {
    const config = {
      databaseUrl: 'postgres://x@127.0.0.1/x',
      temporalAddress: '127.0.0.1:7233',
      temporalNamespace: 'default',
      taskQueue: 'q',
      secretKey: key.key,
      sevdeskBaseUrl: 'https://my.sevdesk.de/api/v1',
      syncIntervalSeconds: 300,
    };
    const temporal = { tls: undefined, apiKey: undefined, encryptPayloads: false, codecCorsOrigin: UI };
    expect(codecEndpointOptions(config)).toBeUndefined();
    expect(codecEndpointOptions({ ...config, temporal })).toBeUndefined();
    const on = codecEndpointOptions({ ...config, temporal: { ...temporal, encryptPayloads: true } });
    expect(on?.corsOrigin).toBe(UI);
    expect(on?.codec).toBeInstanceOf(KeyringPayloadCodec);
  });
});
