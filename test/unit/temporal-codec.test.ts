// The payload codec of SEVSYNC_ENCRYPT_PAYLOADS: round trip, the key named in the payload, payloads written
// before encryption, key rotation, and errors that name key ids but never a key or a payload's content.
import { randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, defaultPayloadConverter } from '@temporalio/common';
import type { Payload } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config';
import type { Config } from '../../src/config';
import { createKeyring, keyId } from '../../src/secrets';
import {
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
  KeyringPayloadCodec,
  PayloadDecryptError,
  isEncryptedPayload,
} from '../../src/temporal/codec';
import { temporalDataConverter } from '../../src/temporal/data-converter';

const oldKey = { id: 'k2025', key: randomBytes(32) };
const newKey = { id: 'k2026', key: randomBytes(32) };
const utf8 = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('utf8');
const toPayload = (v: unknown) => defaultPayloadConverter.toPayload(v);
const value = (p: Payload) => defaultPayloadConverter.fromPayload(p);
const SECRET = { email: 'anna.schmidt@example.de', error: 'Authentication required' };

describe('KeyringPayloadCodec', () => {
  it('encrypts every payload with the current key and decodes it back, metadata included', async () => {
    const codec = new KeyringPayloadCodec(createKeyring([newKey, oldKey]));
    const plain = [toPayload(SECRET), toPayload(undefined), toPayload(new Uint8Array([1, 2, 3]))];
    const encoded = await codec.encode(plain);
    for (const p of encoded) {
      expect(utf8(p.metadata?.[METADATA_ENCODING_KEY])).toBe(ENCRYPTED_ENCODING);
      expect(utf8(p.metadata?.[KEY_ID_METADATA])).toBe('k2026');
      expect(Object.keys(p.metadata ?? {}).sort()).toEqual([KEY_ID_METADATA, METADATA_ENCODING_KEY].sort());
      expect(utf8(p.data)).not.toContain('anna.schmidt');
      expect(utf8(p.data)).not.toContain('json/plain');
    }
    const decoded = await codec.decode(encoded);
    expect(decoded.map(value)).toEqual([SECRET, undefined, new Uint8Array([1, 2, 3])]);
    expect(decoded.map((p) => utf8(p.metadata?.[METADATA_ENCODING_KEY]))).toEqual(
      plain.map((p) => utf8(p.metadata?.[METADATA_ENCODING_KEY])),
    );
  });

  it('uses a fresh IV per payload: the same value never gives the same ciphertext', async () => {
    const codec = new KeyringPayloadCodec(createKeyring([newKey]));
    const [a, b] = await codec.encode([toPayload(SECRET), toPayload(SECRET)]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  it('passes payloads without the encrypted encoding through unchanged (histories from before)', async () => {
    const codec = new KeyringPayloadCodec(createKeyring([newKey]));
    const plain = [toPayload({ accountId: 'acct-1' }), { metadata: {}, data: Buffer.from('raw') }];
    const decoded = await codec.decode(plain);
    expect(decoded[0]).toBe(plain[0]);
    expect(decoded[1]).toBe(plain[1]);
    expect(isEncryptedPayload(plain[0]!)).toBe(false);
  });

  it('after a rotation decodes with the key the payload names, and encrypts with the new one', async () => {
    const before = new KeyringPayloadCodec(createKeyring([oldKey]));
    const written = await before.encode([toPayload(SECRET)]);
    const after = new KeyringPayloadCodec(createKeyring([newKey, oldKey]));
    expect((await after.decode(written)).map(value)).toEqual([SECRET]);
    const [fresh] = await after.encode([toPayload(SECRET)]);
    expect(utf8(fresh!.metadata?.[KEY_ID_METADATA])).toBe('k2026');
  });

  it('finds a key named by its hash (SEVSYNC_SECRET_KEY alone) under an explicit id later', async () => {
    const single = new KeyringPayloadCodec(createKeyring([{ id: keyId(oldKey.key), key: oldKey.key }]));
    const written = await single.encode([toPayload(SECRET)]);
    const renamed = new KeyringPayloadCodec(createKeyring([newKey, oldKey]));
    expect((await renamed.decode(written)).map(value)).toEqual([SECRET]);
  });

  it('refuses a payload whose key is not configured, naming the ids and no key', async () => {
    const written = await new KeyringPayloadCodec(createKeyring([oldKey])).encode([toPayload(SECRET)]);
    const without = new KeyringPayloadCodec(createKeyring([newKey]));
    const err = await without.decode(written).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PayloadDecryptError);
    expect((err as Error).message).toBe(
      'a payload was encrypted with key k2025, which is not among the configured keys (k2026); ' +
        'add it to SEVSYNC_SECRET_KEYS',
    );
    expect((err as Error).message).not.toContain(oldKey.key.toString('base64'));
    expect((err as Error).message).not.toContain(newKey.key.toString('base64'));
  });

  it('refuses a different key under the same id, a damaged payload and a payload without key id', async () => {
    const [written] = await new KeyringPayloadCodec(createKeyring([oldKey])).encode([toPayload(SECRET)]);
    const impostor = new KeyringPayloadCodec(createKeyring([{ id: 'k2025', key: randomBytes(32) }]));
    await expect(impostor.decode([written!])).rejects.toThrow(/with key k2025 could not be decrypted/);
    const codec = new KeyringPayloadCodec(createKeyring([oldKey]));
    const damaged = Buffer.from(written!.data!);
    damaged.writeUInt8(damaged.readUInt8(damaged.length - 1) ^ 1, damaged.length - 1);
    await expect(codec.decode([{ ...written, data: damaged }])).rejects.toThrow(/could not be decrypted/);
    await expect(
      codec.decode([
        { metadata: { [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING) }, data: damaged },
      ]),
    ).rejects.toThrow(/names no key/);
  });
});

describe('temporalDataConverter', () => {
  const base: Config = {
    databaseUrl: 'postgres://x@127.0.0.1/x',
    temporalAddress: '127.0.0.1:7233',
    temporalNamespace: 'default',
    taskQueue: 'q',
    secretKey: undefined,
    sevdeskBaseUrl: 'https://my.sevdesk.de/api/v1',
    syncIntervalSeconds: 300,
  };
  const temporal = { tls: undefined, apiKey: undefined, encryptPayloads: true, codecCorsOrigin: undefined };

  it('is the SDK default unless SEVSYNC_ENCRYPT_PAYLOADS is on', () => {
    expect(temporalDataConverter(base)).toBeUndefined();
    expect(
      temporalDataConverter({ ...base, temporal: { ...temporal, encryptPayloads: false } }),
    ).toBeUndefined();
  });

  it('says clearly that encryption needs a secret key', () => {
    expect(() => temporalDataConverter({ ...base, temporal })).toThrow(ConfigError);
    expect(() => temporalDataConverter({ ...base, temporal })).toThrow(
      /^SEVSYNC_ENCRYPT_PAYLOADS=1 encrypts with the secret key, and SEVSYNC_SECRET_KEY is not set/,
    );
  });

  it('has the keyring codec and the failure converter that encodes messages, loadable by plain require', () => {
    const dc = temporalDataConverter({ ...base, secretKey: newKey.key, temporal })!;
    expect(dc.payloadCodecs).toHaveLength(1);
    expect((dc.payloadCodecs![0] as KeyringPayloadCodec).currentKeyId).toBe(keyId(newKey.key));
    // What the SDK does with the path: a require() without any TypeScript loader.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { failureConverter } = require(dc.failureConverterPath!) as {
      failureConverter: { options: { encodeCommonAttributes: boolean } };
    };
    expect(failureConverter.options.encodeCommonAttributes).toBe(true);
  });
});
