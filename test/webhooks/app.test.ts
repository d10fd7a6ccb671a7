// The webhook use cases, their CLI commands and their HTTP routes: clear errors for bad input, the secret
// shown once and stored encrypted, `webhooks test` signed like every delivery. No worker runs here: an added
// endpoint's workflow waits on its task queue (the delivery itself: delivery.test.ts).
import { Command } from 'commander';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AppDeps } from '../../src/app';
import { connectApp, httpStatusOf, isAppError } from '../../src/app';
import { addWebhook, listWebhooks, removeWebhook, testWebhook } from '../../src/app/webhooks';
import { addWebhooksCommands } from '../../src/cli/webhooks';
import { DEFAULT_EVENTS, configEnv } from '../../src/config';
import { EVENT_TYPES } from '../../src/db/events';
import { bindWebhookUseCases, registerWebhooksApi } from '../../src/server/webhooks-api';
import { testConfig } from '../helpers/env';
import type { Receiver } from './receiver';
import { startReceiver } from './receiver';

const config = testConfig();
let app: AppDeps;
let receiver: Receiver;
const added: string[] = [];

beforeAll(async () => {
  app = await connectApp(config);
  receiver = await startReceiver();
});

afterAll(async () => {
  for (const id of added) await removeWebhook(app, id).catch(() => undefined);
  await app?.close();
  await receiver?.close();
});

async function add(input: Parameters<typeof addWebhook>[1]) {
  const res = await addWebhook(app, input);
  added.push(res.id);
  return res;
}

describe('webhooks add', () => {
  it('answers id, url and the secret; stores the secret encrypted; starts the delivery workflow', async () => {
    const res = await add({
      url: receiver.url('/hook?key=k1'),
      accountId: 'acme',
      types: ['invoice.created', 'invoice.created', 'customer.updated'],
    });
    expect(res).toMatchObject({
      id: expect.stringMatching(/^we_[0-9a-f]{24}$/),
      url: receiver.url('/hook?key=k1'),
      account: 'acme',
      types: ['invoice.created', 'customer.updated'],
      secret: expect.stringMatching(/^whsec_/),
    });
    const [row] = await app.db.sql<{ secret_ciphertext: string; secret_key_id: string }[]>`
      select secret_ciphertext, secret_key_id from webhook_endpoints where id = ${res.id}`;
    expect(row!.secret_ciphertext.startsWith('v2:')).toBe(true);
    expect(row!.secret_ciphertext).not.toContain(res.secret.slice(6));
    const listed = (await listWebhooks(app)).find((w) => w.id === res.id);
    expect(listed).toMatchObject({
      state: 'active',
      enabled: true,
      delivered: 0,
      attempts: 0,
      account: 'acme',
    });
    expect(JSON.stringify(listed)).not.toContain(res.secret);
    const handle = app.temporal.workflow.getHandle(`webhook-delivery:${res.id}`);
    const d = await handle.describe();
    expect(d.status.name).toBe('RUNNING');
    expect(d.taskQueue).toBe(`${config.taskQueue}-webhooks`);
    // Neither the secret nor an event is in the workflow's history.
    expect(JSON.stringify(await handle.fetchHistory())).not.toContain(res.secret.slice(6));
  });

  it.each([
    [{ url: 'http://hooks.example.com/in' }, /must use https:\/\/.*unencrypted/],
    [{ url: 'https://10.1.2.3/in' }, /private network range.*SEVSYNC_WEBHOOK_ALLOW_PRIVATE/],
    [{ url: 'https://user:pw@hooks.example.com/in' }, /user name or password/],
    [{ url: 'not a url' }, /is not a URL/],
    [{ url: 'https://hooks.invalid/in' }, /hooks\.invalid does not resolve/],
    [
      { url: 'https://127.0.0.1/in', types: ['invoice.created', 'invoice.paid'] },
      /unknown event type invoice\.paid; the types are: invoice\.created, /,
    ],
    [{ url: 'https://127.0.0.1/in', types: [' '] }, /at least one event type/],
    [{ url: 'https://127.0.0.1/in', accountId: 'has space' }, /account id must be/],
  ])('refuses %j', async (input, message) => {
    const err = await addWebhook(app, input).catch((e: unknown) => e);
    expect(isAppError(err)).toBe(true);
    expect(err).toMatchObject({ type: 'invalid_input', message: expect.stringMatching(message) });
  });

  it('a private address is accepted when the setting allows it', async () => {
    const open = await connectApp({
      ...config,
      events: {
        ...DEFAULT_EVENTS,
        webhookTaskQueue: `${config.taskQueue}-webhooks`,
        webhookAllowPrivate: true,
      },
    });
    try {
      const res = await addWebhook(open, { url: 'https://10.1.2.3/in' });
      added.push(res.id);
      expect(res.url).toBe('https://10.1.2.3/in');
    } finally {
      await open.close();
    }
  });
});

describe('webhooks test', () => {
  it('posts a webhook.test event signed with the endpoint secret and reports the answer', async () => {
    receiver.behave('/ping', () => 200);
    const ep = await add({ url: receiver.url('/ping') });
    receiver.secret('/ping', ep.secret);
    const res = await testWebhook(app, ep.id);
    expect(res).toMatchObject({
      id: ep.id,
      ok: true,
      status: 200,
      error: null,
      eventId: expect.stringMatching(/^evt_[0-9a-f]{32}$/),
    });
    const [got] = receiver.received('/ping');
    expect(got).toMatchObject({ verified: true, id: res.eventId });
    expect(got!.event).toMatchObject({
      type: 'webhook.test',
      seq: 0,
      account: null,
      data: { endpoint: ep.id },
    });

    receiver.behave('/ping', () => 410);
    expect(await testWebhook(app, ep.id)).toMatchObject({
      ok: false,
      status: 410,
      error: 'HTTP 410: no (410)',
    });
  });

  it('an unknown or malformed id is not_found', async () => {
    await expect(testWebhook(app, 'we_000000000000000000000000')).rejects.toMatchObject({
      type: 'not_found',
    });
    await expect(testWebhook(app, 'nope')).rejects.toMatchObject({
      type: 'not_found',
      message: 'no webhook nope (see `sevsync webhooks list`)',
    });
  });
});

describe('the CLI commands', () => {
  const run = async (...args: string[]) => {
    const program = new Command('sevsync').exitOverride();
    addWebhooksCommands(program);
    const out: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((line: string) => void out.push(line));
    const env = { ...process.env };
    Object.assign(process.env, configEnv(config));
    try {
      await program.parseAsync(['node', 'sevsync', 'webhooks', ...args]);
      return { out: out.join('\n'), error: undefined };
    } catch (err) {
      return { out: out.join('\n'), error: err as Error };
    } finally {
      spy.mockRestore();
      process.env = env;
    }
  };

  it('add --json answers {id, url, account, types, secret}; list --json shows it without the secret; remove', async () => {
    const res = await run(
      'add',
      '--url',
      receiver.url('/cli'),
      '--types',
      'invoice.created,invoice.removed',
      '--json',
    );
    expect(res.error).toBeUndefined();
    const added = JSON.parse(res.out) as { id: string; secret: string };
    expect(added).toMatchObject({
      url: receiver.url('/cli'),
      account: null,
      types: ['invoice.created', 'invoice.removed'],
    });
    const listed = await run('list', '--json');
    const all = JSON.parse(listed.out) as { id: string }[];
    expect(all.find((w) => w.id === added.id)).toMatchObject({
      state: 'active',
      types: ['invoice.created', 'invoice.removed'],
    });
    expect(listed.out).not.toContain(added.secret);
    const text = await run('list');
    expect(text.out).toContain(
      `${added.id}  ${receiver.url('/cli')}  (invoice.created,invoice.removed of every account)`,
    );
    expect((await run('remove', added.id)).out).toBe(`webhook ${added.id} removed`);
  });

  it('bad event types name the valid ones; test exits with an error when the receiver does not answer 2xx', async () => {
    const bad = await run('add', '--url', receiver.url('/cli'), '--types', 'invoice.create');
    expect(bad.error?.message).toBe(
      `unknown event type invoice.create; the types are: ${EVENT_TYPES.join(', ')}`,
    );
    receiver.behave('/cli-test', () => 500);
    const ep = await add({ url: receiver.url('/cli-test') });
    const t = await run('test', ep.id);
    expect(t.out).toMatch(
      new RegExp(
        `^webhook ${ep.id}: test event evt_[0-9a-f]{32} failed after \\d+ ms: HTTP 500: no \\(500\\)$`,
      ),
    );
    expect(t.error).toMatchObject({ type: 'failed' });
  });
});

describe('the HTTP routes', () => {
  let http: FastifyInstance;
  beforeAll(async () => {
    http = Fastify();
    http.setValidatorCompiler(validatorCompiler);
    http.setSerializerCompiler(serializerCompiler);
    // What the server's auth hook decides: the API token, or a session for one account (x-account here).
    http.decorateRequest('principal', null);
    http.addHook('onRequest', async (req) => {
      const account = req.headers['x-account'];
      (req as unknown as { principal: unknown }).principal = {
        account: typeof account === 'string' ? account : null,
        via: typeof account === 'string' ? 'session' : 'bearer',
      };
    });
    http.setErrorHandler((err, _req, reply) => {
      if (hasZodFastifySchemaValidationErrors(err))
        return reply.code(400).send({ error: { type: 'invalid_input', message: err.message } });
      if (isAppError(err))
        return reply.code(httpStatusOf(err.type)).send({ error: { type: err.type, message: err.message } });
      return reply.code(500).send({ error: { type: 'internal', message: String(err) } });
    });
    registerWebhooksApi(http, { webhooks: bindWebhookUseCases(app) });
    await http.ready();
  });
  afterAll(() => http?.close());

  it('POST 201 with the secret, GET lists, test, enable, DELETE 204, then 404', async () => {
    receiver.behave('/api', () => 204);
    const created = await http.inject({
      method: 'POST',
      url: '/api/webhooks',
      payload: { url: receiver.url('/api'), account: 'acme', types: ['invoice.created'] },
    });
    expect(created.statusCode).toBe(201);
    const body = created.json<{ id: string; secret: string }>();
    added.push(body.id);
    expect(body).toMatchObject({
      url: receiver.url('/api'),
      account: 'acme',
      types: ['invoice.created'],
      secret: expect.stringMatching(/^whsec_/),
    });

    const list = await http.inject({ method: 'GET', url: '/api/webhooks' });
    expect(list.statusCode).toBe(200);
    expect(list.json<{ id: string }[]>().find((w) => w.id === body.id)).toMatchObject({ state: 'active' });
    expect(list.body).not.toContain(body.secret);

    const test = await http.inject({ method: 'POST', url: `/api/webhooks/${body.id}/test` });
    expect(test.json()).toMatchObject({ ok: true, status: 204 });
    const enabled = await http.inject({ method: 'POST', url: `/api/webhooks/${body.id}/enable` });
    expect(enabled.statusCode).toBe(200);
    expect(enabled.json()).toMatchObject({ id: body.id, state: 'active' });

    expect((await http.inject({ method: 'DELETE', url: `/api/webhooks/${body.id}` })).statusCode).toBe(204);
    const gone = await http.inject({ method: 'DELETE', url: `/api/webhooks/${body.id}` });
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toMatchObject({ error: { type: 'not_found' } });
  });

  it('400 for bad input, 403 for a session of one account', async () => {
    const bad = await http.inject({
      method: 'POST',
      url: '/api/webhooks',
      payload: { url: receiver.url('/x'), types: ['nope'] },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({
      error: { type: 'invalid_input', message: expect.stringContaining('unknown event type nope') },
    });
    const extra = await http.inject({
      method: 'POST',
      url: '/api/webhooks',
      payload: { url: receiver.url('/x'), secret: 'mine' },
    });
    expect(extra.statusCode).toBe(400);
    expect((await http.inject({ method: 'POST', url: '/api/webhooks/we_1/test' })).statusCode).toBe(400);
    const session = await http.inject({
      method: 'GET',
      url: '/api/webhooks',
      headers: { 'x-account': 'acme' },
    });
    expect(session.statusCode).toBe(403);
    expect(session.json()).toMatchObject({ error: { type: 'forbidden' } });
  });
});
