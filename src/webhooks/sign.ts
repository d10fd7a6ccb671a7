// Standard Webhooks signatures (standardwebhooks.com): the receiver checks `webhook-signature` against an
// HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>" with the endpoint's secret, whose key is the base64
// after `whsec_`. Any Standard Webhooks verifier (the `standardwebhooks` packages) accepts what this signs.
import { createHmac, randomBytes } from 'node:crypto';

const PREFIX = 'whsec_';
/** 24 random bytes: 192 bits of key, 32 base64 characters without padding. */
const SECRET_BYTES = 24;

/** A new signing secret: `whsec_` + base64 of random bytes. Shown once, stored encrypted. */
export function generateWebhookSecret(): string {
  return PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

export class WebhookSecretError extends Error {
  override readonly name = 'WebhookSecretError';
}

/** The HMAC key of a secret (the bytes its base64 stands for). The message never contains the secret. */
export function webhookKey(secret: string): Buffer {
  const b64 = secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64))
    throw new WebhookSecretError('the signing secret is not whsec_<base64>');
  const key = Buffer.from(b64, 'base64');
  if (key.length < 16) throw new WebhookSecretError('the signing secret is shorter than 16 bytes');
  return key;
}

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`. */
export function signWebhook(key: Buffer, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** The three Standard Webhooks headers of one delivery attempt (the timestamp is the attempt's own). */
export function webhookHeaders(
  key: Buffer,
  id: string,
  body: string,
  now: Date = new Date(),
): { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string } {
  const ts = Math.floor(now.getTime() / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(ts),
    'webhook-signature': signWebhook(key, id, ts, body),
  };
}
