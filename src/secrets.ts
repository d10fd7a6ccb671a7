import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

// The sevDesk API tokens at rest: AES-256-GCM, 16-byte tag, with associated data that binds each ciphertext
// to its account, provider and origin (scheme, host and port of the base URL). A ciphertext copied to another
// account's row, or a row whose base URL was pointed elsewhere, no longer decrypts.
//
// Stored formats (the `token_ciphertext` column):
//   v1 (legacy, no AAD): base64(iv | tag | ciphertext)
//   v2:                  "v2:" + base64(iv | tag | ciphertext), AAD = "sevsync-token-v2\n<account>\n<provider>\n<origin>"
// Base64 never contains ':', so the marker is unambiguous. v1 rows still decrypt; `keys rotate` rewrites them as v2.

const IV_BYTES = 12;
const TAG_BYTES = 16;
const V2 = 'v2:';

/** Identifies a key by its hash (the id of SEVSYNC_SECRET_KEY and of legacy rows); not secret. */
export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

export interface SecretKey {
  id: string;
  key: Buffer;
}

/** The keys sevsync knows: the first one encrypts, every one decrypts (old rows name theirs by id). */
export interface Keyring {
  current: SecretKey;
  keys: SecretKey[];
}

export function createKeyring(keys: SecretKey[]): Keyring {
  const [current] = keys;
  if (!current) throw new Error('a keyring needs at least one key');
  for (const k of keys) {
    if (k.key.length !== 32) throw new Error(`secret key ${k.id} must be 32 bytes`);
  }
  return { current, keys };
}

/** A keyring of one key, named by its hash (what SEVSYNC_SECRET_KEY alone gives). */
export function keyringOf(key: Buffer | undefined): Keyring {
  if (!key) throw new Error('no secret key configured (SEVSYNC_SECRET_KEY)');
  return createKeyring([{ id: keyId(key), key }]);
}

/** What a ciphertext is bound to. */
export interface TokenBinding {
  accountId: string;
  provider: string;
  baseUrl: string;
}

export interface EncryptedToken {
  ciphertext: string;
  keyId: string;
}

export class TokenDecryptError extends Error {
  override readonly name = 'TokenDecryptError';
}

/** scheme://host[:port], as the URL standard spells it (a default port is omitted). */
export function originOf(baseUrl: string): string {
  return new URL(baseUrl).origin;
}

function aad(b: TokenBinding): Buffer {
  return Buffer.from(`sevsync-token-v2\n${b.accountId}\n${b.provider}\n${originOf(b.baseUrl)}`, 'utf8');
}

export function encryptToken(ring: Keyring, binding: TokenBinding, token: string): EncryptedToken {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', ring.current.key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(binding));
  const body = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
  return {
    ciphertext: V2 + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64'),
    keyId: ring.current.id,
  };
}

export function isCurrentFormat(ring: Keyring, stored: EncryptedToken): boolean {
  return stored.ciphertext.startsWith(V2) && stored.keyId === ring.current.id;
}

function findKey(ring: Keyring, id: string): SecretKey | undefined {
  // A key may be named by its explicit id (SEVSYNC_SECRET_KEYS) or by its hash (SEVSYNC_SECRET_KEY, old rows).
  return ring.keys.find((k) => k.id === id) ?? ring.keys.find((k) => keyId(k.key) === id);
}

export function decryptToken(ring: Keyring, binding: TokenBinding, stored: EncryptedToken): string {
  const k = findKey(ring, stored.keyId);
  if (!k) {
    throw new TokenDecryptError(
      `the stored sevDesk token was encrypted with key ${stored.keyId}, which is not among the configured keys ` +
        `(${ring.keys.map((x) => x.id).join(', ')}); add it to SEVSYNC_SECRET_KEYS`,
    );
  }
  const v2 = stored.ciphertext.startsWith(V2);
  const raw = Buffer.from(v2 ? stored.ciphertext.slice(V2.length) : stored.ciphertext, 'base64');
  if (raw.length < IV_BYTES + TAG_BYTES) {
    throw new TokenDecryptError('the stored sevDesk token is damaged (too short)');
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', k.key, raw.subarray(0, IV_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    if (v2) decipher.setAAD(aad(binding));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    throw new TokenDecryptError(
      'the stored sevDesk token could not be decrypted (wrong key, damaged data, or it belongs to another ' +
        'account or base URL)',
    );
  }
}

/** The token of a stored sevDesk interface row (what the worker's activities need). */
export function openInterfaceToken(
  ring: Keyring,
  iface: { accountId: string; baseUrl: string; tokenCiphertext: string; tokenKeyId: string },
  provider = 'sevdesk',
): string {
  return decryptToken(
    ring,
    { accountId: iface.accountId, provider, baseUrl: iface.baseUrl },
    { ciphertext: iface.tokenCiphertext, keyId: iface.tokenKeyId },
  );
}

/** sevDesk tokens are 32 hex characters (docs/sevdesk.md, "Access"). */
export function isPlausibleToken(token: string): boolean {
  return /^[0-9a-f]{32}$/i.test(token);
}
