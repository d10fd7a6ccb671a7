// The payload codec that keeps personal data and sevDesk error texts out of Temporal's database: every payload
// (workflow and activity inputs and results, signals, queries, updates, memos, failure details and, with the
// failure converter of ./failure-converter.ts, failure messages) is AES-256-GCM encrypted with the keyring's
// current key. Temporal's encryption sample is the model: the whole payload (metadata and data) is
// serialised as the Payload protobuf and encrypted; the result says `encoding: binary/encrypted` and names
// its key in `encryption-key-id`, so a payload decodes with whichever configured key made it (key rotation
// keeps old histories readable). A payload without that encoding passes through unchanged (histories
// written before encryption was turned on). Runs in the worker's main thread and in the client, never in
// the workflow sandbox.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, ValueError } from '@temporalio/common';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { Keyring, SecretKey } from '../secrets';
import { keyId } from '../secrets';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;
/**
 * Associated data: binds a ciphertext to this use of the keys, which also encrypt the stored sevDesk tokens,
 * so a payload ciphertext (which /codec/encode makes for any input) never decrypts as a token, nor the reverse.
 */
const AAD = Buffer.from('sevsync-temporal-payload-v1', 'utf8');

const ProtoPayload = temporal.api.common.v1.Payload;

export class PayloadDecryptError extends ValueError {
  override readonly name = 'PayloadDecryptError';
}

const utf8 = (bytes: Uint8Array | null | undefined) => (bytes ? Buffer.from(bytes).toString('utf8') : '');

/** Whether a payload is one this codec (or another with the same convention) encrypted. */
export function isEncryptedPayload(payload: Payload): boolean {
  return utf8(payload.metadata?.[METADATA_ENCODING_KEY]) === ENCRYPTED_ENCODING;
}

/** The keyring's key for an id: its explicit id (SEVSYNC_SECRET_KEYS) or its hash (SEVSYNC_SECRET_KEY alone). */
function keyFor(ring: Keyring, id: string): SecretKey | undefined {
  return ring.keys.find((k) => k.id === id) ?? ring.keys.find((k) => keyId(k.key) === id);
}

export class KeyringPayloadCodec implements PayloadCodec {
  constructor(private readonly ring: Keyring) {}

  /** The id of the key new payloads are encrypted with (not secret). */
  get currentKeyId(): string {
    return this.ring.current.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.encrypt(p));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => (isEncryptedPayload(p) ? this.decrypt(p) : p));
  }

  private encrypt(payload: Payload): Payload {
    const { id, key } = this.ring.current;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(AAD);
    const plain = ProtoPayload.encode({
      metadata: payload.metadata ?? {},
      data: payload.data ?? null,
    }).finish();
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return {
      metadata: {
        [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING),
        [KEY_ID_METADATA]: Buffer.from(id),
      },
      data: Buffer.concat([iv, cipher.getAuthTag(), body]),
    };
  }

  private decrypt(payload: Payload): Payload {
    const id = utf8(payload.metadata?.[KEY_ID_METADATA]);
    if (!id) throw new PayloadDecryptError('an encrypted payload names no key (metadata encryption-key-id)');
    const k = keyFor(this.ring, id);
    if (!k) {
      throw new PayloadDecryptError(
        `a payload was encrypted with key ${id}, which is not among the configured keys ` +
          `(${this.ring.keys.map((x) => x.id).join(', ')}); add it to SEVSYNC_SECRET_KEYS`,
      );
    }
    const raw = Buffer.from(payload.data ?? []);
    if (raw.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptError('an encrypted payload is too short');
    let plain: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', k.key, raw.subarray(0, IV_BYTES), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      decipher.setAAD(AAD);
      plain = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecryptError(
        `a payload encrypted with key ${id} could not be decrypted (a different key under that id, or damaged data)`,
      );
    }
    const inner = ProtoPayload.decode(plain);
    return { metadata: { ...inner.metadata }, data: inner.data };
  }
}
