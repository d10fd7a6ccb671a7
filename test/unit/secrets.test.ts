import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isLoopbackHost, parseBaseUrl } from '../../src/app/base-url';
import {
  TokenDecryptError,
  createKeyring,
  decryptToken,
  encryptToken,
  isCurrentFormat,
  keyId,
  keyringOf,
} from '../../src/secrets';

const keyA = Buffer.alloc(32, 1);
const keyB = Buffer.alloc(32, 2);
const token = 'ab'.repeat(16);
const binding = { accountId: 'acct-1', provider: 'sevdesk', baseUrl: 'https://my.sevdesk.de/api/v1' };

/** The format before associated data: base64(iv | tag | ciphertext), no marker. */
function legacyEncrypt(key: Buffer, plain: string, tagLength = 16): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: tagLength });
  const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
}

describe('token encryption', () => {
  it('round-trips and never stores the token in clear', () => {
    const ring = keyringOf(keyA);
    const sealed = encryptToken(ring, binding, token);
    expect(sealed.ciphertext.startsWith('v2:')).toBe(true);
    expect(sealed.ciphertext).not.toContain(token);
    expect(Buffer.from(sealed.ciphertext.slice(3), 'base64').toString('latin1')).not.toContain(token);
    expect(sealed.keyId).toBe(keyId(keyA));
    expect(decryptToken(ring, binding, sealed)).toBe(token);
  });

  it('is bound to account, provider and origin: other associated data does not decrypt', () => {
    const ring = keyringOf(keyA);
    const sealed = encryptToken(ring, binding, token);
    for (const other of [
      { ...binding, accountId: 'acct-2' },
      { ...binding, provider: 'lexoffice' },
      { ...binding, baseUrl: 'https://evil.example/api/v1' },
      { ...binding, baseUrl: 'https://my.sevdesk.de:8443/api/v1' },
      { ...binding, baseUrl: 'http://my.sevdesk.de/api/v1' },
    ]) {
      expect(() => decryptToken(ring, other, sealed)).toThrow(TokenDecryptError);
    }
    // The path is not part of the origin: same host, another path still opens.
    expect(decryptToken(ring, { ...binding, baseUrl: 'https://my.sevdesk.de/api/v2' }, sealed)).toBe(token);
  });

  it('refuses a tampered ciphertext, a short tag and a truncated row, without showing the token', () => {
    const ring = keyringOf(keyA);
    const sealed = encryptToken(ring, binding, token);
    const raw = Buffer.from(sealed.ciphertext.slice(3), 'base64');
    raw[raw.length - 1]! ^= 1;
    const tampered = { ...sealed, ciphertext: `v2:${raw.toString('base64')}` };
    expect(() => decryptToken(ring, binding, tampered)).toThrow(TokenDecryptError);

    // A 4-byte tag (GCM allows it, an attacker would like it): our 16-byte tag length is enforced.
    const shortTag = { ciphertext: legacyEncrypt(keyA, token, 4), keyId: keyId(keyA) };
    expect(() => decryptToken(ring, binding, shortTag)).toThrow(TokenDecryptError);
    const truncated = { ciphertext: `v2:${randomBytes(20).toString('base64')}`, keyId: keyId(keyA) };
    expect(() => decryptToken(ring, binding, truncated)).toThrow(/damaged/);
    try {
      decryptToken(ring, { ...binding, accountId: 'x' }, sealed);
    } catch (err) {
      expect((err as Error).message).not.toContain(token);
    }
  });

  it('still opens old rows without associated data, and knows they are not current', () => {
    const ring = keyringOf(keyA);
    const legacy = { ciphertext: legacyEncrypt(keyA, token), keyId: keyId(keyA) };
    expect(decryptToken(ring, binding, legacy)).toBe(token);
    expect(isCurrentFormat(ring, legacy)).toBe(false);
    expect(isCurrentFormat(ring, encryptToken(ring, binding, token))).toBe(true);
  });

  it('rotates: the first key encrypts, every key decrypts, by explicit id or by hash', () => {
    const old = createKeyring([{ id: 'k1', key: keyA }]);
    const sealedOld = encryptToken(old, binding, token);
    const legacy = { ciphertext: legacyEncrypt(keyA, token), keyId: keyId(keyA) };
    const ring = createKeyring([
      { id: 'k2', key: keyB },
      { id: 'k1', key: keyA },
    ]);
    expect(decryptToken(ring, binding, sealedOld)).toBe(token);
    expect(decryptToken(ring, binding, legacy)).toBe(token);
    const fresh = encryptToken(ring, binding, token);
    expect(fresh.keyId).toBe('k2');
    expect(isCurrentFormat(ring, sealedOld)).toBe(false);
    expect(isCurrentFormat(ring, fresh)).toBe(true);
    // Without the old key the old rows cannot be opened: the message names the missing key id.
    const onlyNew = createKeyring([{ id: 'k2', key: keyB }]);
    expect(() => decryptToken(onlyNew, binding, sealedOld)).toThrow(/key k1.*SEVSYNC_SECRET_KEYS/);
    // A key listed under the wrong id is not tried under another id.
    expect(() => decryptToken(onlyNew, binding, { ...sealedOld, keyId: 'k2' })).toThrow(TokenDecryptError);
  });
});

describe('base URL rules', () => {
  it('accepts https anywhere and http only on loopback hosts', () => {
    expect(parseBaseUrl('https://my.sevdesk.de/api/v1/')).toEqual({
      ok: true,
      url: 'https://my.sevdesk.de/api/v1',
    });
    for (const u of [
      'http://127.0.0.1:4010/api/v1',
      'http://127.8.9.10/api/v1',
      'http://localhost:4010',
      'http://[::1]:4010/api/v1',
    ]) {
      expect(parseBaseUrl(u).ok, u).toBe(true);
    }
    for (const u of [
      'http://my.sevdesk.de/api/v1',
      'http://10.0.0.5/api/v1',
      'http://127.0.0.1.evil.example/api/v1',
      'http://localhost.evil.example',
      'ftp://my.sevdesk.de/api',
      'file:///etc/passwd',
      'https://user:pw@my.sevdesk.de/api/v1',
      'https://my.sevdesk.de/api/v1?token=x',
      'not a url',
    ]) {
      expect(parseBaseUrl(u).ok, u).toBe(false);
    }
    const refused = parseBaseUrl('http://my.sevdesk.de/api/v1');
    expect(!refused.ok && refused.reason).toMatch(/must use https:\/\//);
    const creds = parseBaseUrl('https://user:s3cret@my.sevdesk.de/api/v1');
    expect(!creds.ok && creds.reason).not.toContain('s3cret');
  });

  it('knows the loopback hosts', () => {
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('LOCALHOST')).toBe(true);
    expect(isLoopbackHost('128.0.0.1')).toBe(false);
    expect(isLoopbackHost('example.com')).toBe(false);
  });
});
