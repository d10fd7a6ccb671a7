// The activities as the worker builds them, on the test database and real sevDesk clients, each call run
// outside a worker the way Temporal runs it (MockActivityEnvironment: heartbeats and cancellation work).
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import type { Sql } from '../../src/db/client';
import { keyringOf, openInterfaceToken } from '../../src/secrets';
import { createSevdeskClient } from '../../src/sevdesk/client';
import { TEST_SECRET_KEY } from '../helpers/env';

export function activityEnv(sql: Sql) {
  const ring = keyringOf(TEST_SECRET_KEY);
  const acts = createActivities({
    sql,
    sevdesk: ({ baseUrl, token }) => createSevdeskClient({ baseUrl, token }),
    decryptToken: (iface) => openInterfaceToken(ring, iface),
  });
  const env = new MockActivityEnvironment();
  const run = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> =>
    env.run(fn, ...args) as Promise<R>;
  return { acts, run };
}
