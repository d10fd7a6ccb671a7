import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** Identifies the key a token was encrypted with, so keys can be rotated; not secret. */
export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

export interface EncryptedToken {
  ciphertext: string;
  keyId: string;
}

/** AES-256-GCM; stored as base64(iv | tag | ciphertext). */
export function encryptToken(key: Buffer, token: string): EncryptedToken {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
  return { ciphertext: Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64'), keyId: keyId(key) };
}

export class TokenDecryptError extends Error {
  override readonly name = 'TokenDecryptError';
}

export function decryptToken(key: Buffer, stored: EncryptedToken): string {
  if (stored.keyId !== keyId(key)) {
    throw new TokenDecryptError(
      `the stored sevDesk token was encrypted with key ${stored.keyId}, but SEVSYNC_SECRET_KEY is key ${keyId(key)}`,
    );
  }
  const raw = Buffer.from(stored.ciphertext, 'base64');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    throw new TokenDecryptError(
      'the stored sevDesk token could not be decrypted (wrong key or damaged data)',
    );
  }
}

/** sevDesk tokens are 32 hex characters (API-NOTES §1). */
export function isPlausibleToken(token: string): boolean {
  return /^[0-9a-f]{32}$/i.test(token);
}
