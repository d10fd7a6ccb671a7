// The signing secrets at rest: encrypted like the sevDesk tokens (AES-256-GCM with the configured keys,
// src/secrets.ts), bound to the endpoint's id and origin, so a ciphertext copied to another endpoint does not
// open. Only the delivery activity and `webhooks test` open one; `webhooks add` shows it once.
import type { EncryptedToken, Keyring, TokenBinding } from '../secrets';
import { TokenDecryptError, decryptToken, encryptToken } from '../secrets';

const binding = (id: string, url: string): TokenBinding => ({
  accountId: `webhook:${id}`,
  provider: 'webhook',
  baseUrl: url,
});

export function sealWebhookSecret(ring: Keyring, id: string, url: string, secret: string): EncryptedToken {
  return encryptToken(ring, binding(id, url), secret);
}

export class WebhookSecretUnavailableError extends Error {
  override readonly name = 'WebhookSecretUnavailableError';
}

/** The endpoint's secret; the error names the key, never the secret. */
export function openWebhookSecret(
  ring: Keyring,
  e: { id: string; url: string; secretCiphertext: string; secretKeyId: string },
): string {
  try {
    return decryptToken(ring, binding(e.id, e.url), { ciphertext: e.secretCiphertext, keyId: e.secretKeyId });
  } catch (err) {
    if (!(err instanceof TokenDecryptError)) throw err;
    throw new WebhookSecretUnavailableError(
      `the signing secret of webhook ${e.id} cannot be decrypted: ` +
        err.message.replace(/the stored sevDesk token/g, 'it'),
    );
  }
}

/** Re-encrypts a secret with the current key (`keys rotate`). */
export function resealWebhookSecret(
  ring: Keyring,
  e: { id: string; url: string; ciphertext: string; keyId: string },
): EncryptedToken {
  const secret = decryptToken(ring, binding(e.id, e.url), { ciphertext: e.ciphertext, keyId: e.keyId });
  return encryptToken(ring, binding(e.id, e.url), secret);
}
