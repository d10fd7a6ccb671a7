// The signatures are Standard Webhooks': the `standardwebhooks` package's verifier accepts them, and refuses
// them when the body, the id, the timestamp or the secret differ.
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateWebhookSecret, signWebhook, webhookHeaders, webhookKey } from '../../src/webhooks/sign';
import { redactText } from '../../src/log';

const event = {
  id: 'evt_0123456789abcdef0123456789abcdef',
  seq: 7,
  type: 'invoice.created',
  account: 'acme',
  occurredAt: '2026-12-07T10:00:00.000Z',
  data: { number: 'RE-1001', amount: '119.00', customer: 'anna@example.com', note: 'Grüße ✓' },
};

describe('webhook signatures', () => {
  it('a new secret is whsec_ + base64 of 24 random bytes, different every time', () => {
    const a = generateWebhookSecret();
    const b = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(webhookKey(a)).toHaveLength(24);
    expect(a).not.toBe(b);
  });

  it('the standardwebhooks verifier accepts what is signed, and returns the event', () => {
    const secret = generateWebhookSecret();
    const body = JSON.stringify(event);
    const headers = webhookHeaders(webhookKey(secret), event.id, body);
    expect(headers['webhook-id']).toBe(event.id);
    expect(headers['webhook-timestamp']).toMatch(/^\d{10}$/);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual(event);
    // The package's own signer agrees byte for byte.
    const ts = new Date(Number(headers['webhook-timestamp']) * 1000);
    expect(new Webhook(secret).sign(event.id, ts, body)).toBe(headers['webhook-signature']);
  });

  it('refuses a changed body, id, timestamp or secret, and a stale timestamp', () => {
    const secret = generateWebhookSecret();
    const body = JSON.stringify(event);
    const headers = webhookHeaders(webhookKey(secret), event.id, body);
    const wh = new Webhook(secret);
    expect(() => wh.verify(body.replace('119.00', '1190.00'), headers)).toThrow(WebhookVerificationError);
    expect(() => wh.verify(body, { ...headers, 'webhook-id': 'evt_other' })).toThrow(
      WebhookVerificationError,
    );
    const later = String(Number(headers['webhook-timestamp']) + 1);
    expect(() => wh.verify(body, { ...headers, 'webhook-timestamp': later })).toThrow(
      WebhookVerificationError,
    );
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow(
      WebhookVerificationError,
    );
    const old = new Date(Date.now() - 10 * 60_000);
    expect(() => wh.verify(body, webhookHeaders(webhookKey(secret), event.id, body, old))).toThrow(
      /timestamp/i,
    );
  });

  it('signs "id.timestamp.body" with HMAC-SHA256 of the decoded key (the spec test vector)', () => {
    // From the Standard Webhooks specification's examples.
    const key = webhookKey('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    const sig = signWebhook(key, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    expect(sig).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('rejects a malformed secret without repeating it', () => {
    expect(() => webhookKey('whsec_not base64!')).toThrow(/not whsec_<base64>/);
    expect(() => webhookKey('whsec_AAAA')).toThrow(/shorter than 16 bytes/);
    try {
      webhookKey('whsec_not base64!');
    } catch (err) {
      expect(String(err)).not.toContain('not base64!');
    }
  });

  it('log lines mask a secret wherever it appears', () => {
    const secret = generateWebhookSecret();
    expect(redactText(`oops ${secret} leaked`)).toBe('oops whsec_[redacted] leaked');
  });
});
