import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../../src/sevdesk/client';
import type { SevdeskError } from '../../src/sevdesk/errors';
import { SevdeskBadRequestError, SevdeskNotFoundError } from '../../src/sevdesk/errors';
import { SevdeskResponseTooLargeError } from '../../src/sevdesk/errors';
import { caught, expectNoToken, invoices, ok, useScriptedSevdesk } from './helpers/client';
import { fixture, hang, json, text, truncated, type Handler } from './helpers/test-server';

// sevDesk's error replies as typed errors (src/sevdesk/http.ts), the size cap on replies, and the token kept
// out of every error.

const sevdesk = useScriptedSevdesk();
const { server, makeClient } = sevdesk;

describe('error replies', () => {
  it('404 / code 151 → SevdeskNotFoundError, no retry', async () => {
    server.fallback(json(404, fixture('error_404.json')));
    const { client } = makeClient();
    const err = await caught(client.getInvoice('1'));
    expect(err).toBeInstanceOf(SevdeskNotFoundError);
    expect(err).toMatchObject({ status: 404, code: 151, retryable: false });
    expect(err.message).toContain('No Model_Invoice with the id 1 was found');
    expect(server.requests).toHaveLength(1);
  });

  it('code 151 with HTTP 400 (as the spec has it) → SevdeskNotFoundError', async () => {
    server.fallback(json(400, { error: { message: 'Invoice was not found', code: 151 }, objects: null }));
    const err = await caught(makeClient().client.getInvoice('1'));
    expect(err).toBeInstanceOf(SevdeskNotFoundError);
    expect(err.status).toBe(400);
  });

  it('an empty list for a GET by id → SevdeskNotFoundError', async () => {
    server.fallback(json(200, { objects: [] }));
    const err = await caught(makeClient().client.getInvoice('1'));
    expect(err).toBeInstanceOf(SevdeskNotFoundError);
  });

  it('HTTP 200 with an error envelope → SevdeskBadRequestError carrying the code', async () => {
    server.fallback(
      json(200, {
        error: { message: 'Invoice is partially paid', code: 390, exceptionUUID: 'u' },
        objects: null,
      }),
    );
    const { client } = makeClient();
    const err = await caught(client.listInvoices());
    expect(err).toBeInstanceOf(SevdeskBadRequestError);
    expect(err).toMatchObject({ status: 200, code: 390, retryable: false });
    expect(err.message).toContain('Invoice is partially paid');
    expect(server.requests).toHaveLength(1);
  });

  it('HTTP 200 with code 151 → SevdeskNotFoundError', async () => {
    server.fallback(json(200, { error: { message: 'No Model_Contact with the id 5 was found', code: 151 } }));
    const err = await caught(makeClient().client.getContact('5'));
    expect(err).toBeInstanceOf(SevdeskNotFoundError);
  });

  it('400 limit error → SevdeskBadRequestError', async () => {
    const message = 'Invalid ‘limit’ parameter. Please provide an integer value between 1 and 1000.';
    server.fallback(json(400, { error: { message, code: null }, objects: null }));
    const err = await caught(makeClient().client.listInvoices());
    expect(err).toBeInstanceOf(SevdeskBadRequestError);
    expect(err.message).toContain(message);
    expect(server.requests).toHaveLength(1);
  });

  it('a 3xx redirect is not followed and not retried', async () => {
    server.fallback((_req, res) => {
      res.writeHead(301, { location: 'https://elsewhere.example/' });
      res.end();
    });
    const err = await caught(makeClient().client.listInvoices());
    expect(err).toBeInstanceOf(SevdeskBadRequestError);
    expect(err.status).toBe(301);
  });
});

describe('response size cap', () => {
  it('a Content-Length above the cap → SevdeskResponseTooLargeError without reading the body', async () => {
    server.fallback(json(200, { objects: invoices, padding: 'x'.repeat(5_000) }));
    const { client } = makeClient({ maxResponseBytes: 1_000 });
    const err = await caught(client.listInvoices());
    expect(err).toBeInstanceOf(SevdeskResponseTooLargeError);
    expect(err).toMatchObject({ retryable: false, limitBytes: 1_000, status: 200 });
    expect(err.message).toContain('1000-byte limit');
    expect(server.requests).toHaveLength(1);
  });

  it('a chunked body that grows past the cap is cut off while streaming', async () => {
    server.fallback((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => {
        if (res.destroyed) return clearInterval(timer);
        res.write('x'.repeat(16_384));
      }, 1);
    });
    const { client } = makeClient({ maxResponseBytes: 100_000, timeoutMs: 5_000 });
    const err = await caught(client.listInvoices());
    expect(err).toMatchObject({ type: 'SevdeskResponseTooLargeError' });
    expect(err.message).toMatch(/bytes read so far/);
  });

  it('a reply within the cap is read normally; the default cap is 50 MB', async () => {
    server.fallback(ok);
    expect((await makeClient({ maxResponseBytes: 100_000 }).client.listInvoices()).objects).toHaveLength(2);
    expect(DEFAULT_MAX_RESPONSE_BYTES).toBe(50 * 1024 * 1024);
  });
});

describe('the token stays secret', () => {
  it('appears in no message, stack or JSON of any error, even when the server echoes it', async () => {
    const { token } = sevdesk;
    const { client } = makeClient({ timeoutMs: 1_000 });
    const replies: Handler[] = [
      json(401, { error: { message: `token ${token} is invalid`, code: null }, objects: null }),
      text(500, `<pre>Authorization: ${token}</pre>`),
      json(200, { error: { message: `bad ${token}`, code: 42 } }),
      json(429, { error: { message: token } }, { 'retry-after': '999' }),
      json(200, { objects: [{ ...invoices[0], sumNet: token }] }),
      truncated({ objects: [{ token }] }),
      hang,
    ];
    const errors: SevdeskError[] = [];
    for (const reply of replies) {
      server.script(reply);
      errors.push(await caught(client.getInvoice('140112233')));
    }
    expect(errors.map((e) => e.type)).toEqual([
      'SevdeskInvalidTokenError',
      'SevdeskServerError',
      'SevdeskBadRequestError',
      'SevdeskRateLimitedError',
      'SevdeskSchemaError',
      'SevdeskNetworkError',
      'SevdeskNetworkError',
    ]);
    for (const err of errors) expectNoToken(err, token);
    expect(errors[0]?.message).toContain('[redacted]');
  });
});
