// The set-up the tests of the sevDesk client share: a scripted sevDesk (test-server.ts) and a random token per
// test, a client for both, and checks of the errors it throws.
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeEach, expect } from 'vitest';
import {
  closeDefaultDispatchers,
  createSevdeskClient,
  type SevdeskClient,
  type SevdeskClientOptions,
} from '../../../src/sevdesk/client';
import { SevdeskError } from '../../../src/sevdesk/errors';
import { fixtureObjects, json, startTestServer, type Handler, type TestServer } from './test-server';

/** The two recorded invoices (an RE and an SR). */
export const invoices = fixtureObjects('invoice_list.json');
export const invoiceList = { objects: invoices };
/** A good list reply: the two recorded invoices. */
export const ok: Handler = json(200, invoiceList);

export interface ScriptedSevdesk {
  /** This test's server: the same object in every test, standing for the one started for the current test. */
  readonly server: TestServer;
  /** This test's token (random per test). */
  readonly token: string;
  /**
   * A client of this test's server with a 5 s timeout. Its in-call waits (a 429's Retry-After) are recorded in
   * `sleeps` and return at once; `{ sleep: undefined }` waits for real.
   */
  makeClient(over?: Partial<SevdeskClientOptions>): { client: SevdeskClient; sleeps: number[] };
}

/** Registers the hooks of the suite it is called in: a new server and token before each test. */
export function useScriptedSevdesk(): ScriptedSevdesk {
  let current: TestServer | undefined;
  let token = '';
  const now = (): TestServer => {
    if (!current) throw new Error('the test server is not started yet (used outside a test?)');
    return current;
  };

  beforeEach(async () => {
    current = await startTestServer();
    token = randomBytes(16).toString('hex');
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  afterAll(async () => {
    await closeDefaultDispatchers();
  });

  const server: TestServer = {
    get url() {
      return now().url;
    },
    get requests() {
      return now().requests;
    },
    get maxInFlight() {
      return now().maxInFlight;
    },
    script: (...handlers) => now().script(...handlers),
    fallback: (handler) => now().fallback(handler),
    received: (n) => now().received(n),
    close: () => now().close(),
  };

  return {
    server,
    get token() {
      return token;
    },
    makeClient(over = {}) {
      const sleeps: number[] = [];
      const client = createSevdeskClient({
        baseUrl: now().url,
        token,
        timeoutMs: 5_000,
        sleep: async (ms) => {
          sleeps.push(ms);
        },
        ...over,
      });
      return { client, sleeps };
    },
  };
}

/** The SevdeskError the call fails with (fails the test when the call succeeds or throws something else). */
export async function caught(p: Promise<unknown>): Promise<SevdeskError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(SevdeskError);
    return e as SevdeskError;
  }
  throw new Error('expected the call to fail');
}

/** The token is nowhere in the error: message, stack, JSON or anything util.inspect shows. */
export function expectNoToken(err: SevdeskError, secret: string): void {
  expect(err.message).not.toContain(secret);
  expect(err.stack).not.toContain(secret);
  expect(JSON.stringify(err)).not.toContain(secret);
  expect(inspect(err, { depth: 10, showHidden: true })).not.toContain(secret);
}
