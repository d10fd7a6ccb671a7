import { describe, expect, it } from 'vitest';
import { ServiceError } from '@temporalio/client';
import { AppError, httpStatusOf, requireBaseUrl, toAppError } from '../../src/app';
import { checkToken } from '../../src/app/tokens';
import type { SevdeskClient } from '../../src/sevdesk/client';
import { SevdeskInvalidTokenError, SevdeskNetworkError } from '../../src/sevdesk/errors';
import { appErrorOf } from '../helpers/errors';

const token = '0123456789abcdef'.repeat(2);

/** A sevDesk whose token check fails with `err` (or succeeds), counting the calls. */
function fakeSevdesk(err?: Error) {
  const calls: { baseUrl: string }[] = [];
  return {
    calls,
    sevdesk: ({ baseUrl }: { baseUrl: string; token: string }) => {
      calls.push({ baseUrl });
      return {
        checkToken: () => (err ? Promise.reject(err) : Promise.resolve()),
      } as unknown as SevdeskClient;
    },
  };
}

const refusal = appErrorOf;

describe('checkToken', () => {
  const url = 'https://my.sevdesk.de/api/v1';

  it('refuses a token that is not shaped like one without asking sevDesk, and without echoing it', async () => {
    const fake = fakeSevdesk();
    const err = await refusal(checkToken(fake, url, 'my password 123'));
    expect(err.type).toBe('invalid_token');
    expect(httpStatusOf(err.type)).toBe(422);
    expect(err.message).not.toContain('my password 123');
    expect(fake.calls).toEqual([]);
  });

  it('maps a 401 to invalid_token and other sevDesk failures to unavailable; the token never shows', async () => {
    const rejected = await refusal(checkToken(fakeSevdesk(new SevdeskInvalidTokenError('401')), url, token));
    expect(rejected.type).toBe('invalid_token');
    expect(rejected.message).toContain('sevDesk rejected the API token (HTTP 401)');
    // Even an error text from below that carried the token would not pass it on.
    const leaky = new SevdeskNetworkError(`connect ECONNREFUSED for ${token}`, { kind: 'connection' });
    const down = await refusal(checkToken(fakeSevdesk(leaky), url, token));
    expect(down.type).toBe('unavailable');
    expect(httpStatusOf(down.type)).toBe(503);
    expect(down.message).toContain('could not check the token');
    expect(down.message).not.toContain(token);
    await expect(checkToken(fakeSevdesk(), url, token)).resolves.toBeUndefined();
  });
});

describe('requireBaseUrl', () => {
  it('normalises an https URL and refuses plain http off loopback as invalid input', () => {
    expect(requireBaseUrl('https://my.sevdesk.de/api/v1//')).toBe('https://my.sevdesk.de/api/v1');
    expect(requireBaseUrl('http://localhost:4010/api/v1')).toBe('http://localhost:4010/api/v1');
    let err: unknown;
    try {
      requireBaseUrl('http://192.168.1.20/api/v1');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).type).toBe('invalid_input');
    expect((err as AppError).message).toContain('the sevDesk base URL must use https://');
  });
});

describe('toAppError', () => {
  it('turns Temporal or PostgreSQL out of reach into unavailable and leaves other errors alone', () => {
    const grpc = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:7233'), { code: 14 });
    const temporal = toAppError(new ServiceError('Failed to start workflow', { cause: grpc }));
    expect(temporal).toBeInstanceOf(AppError);
    expect((temporal as AppError).type).toBe('unavailable');
    const pg = toAppError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    expect((pg as AppError).type).toBe('unavailable');
    const other = new TypeError('a bug');
    expect(toAppError(other)).toBe(other);
    const notFound = new ServiceError('bad request', { cause: Object.assign(new Error('x'), { code: 3 }) });
    expect(toAppError(notFound)).toBe(notFound);
  });
});
