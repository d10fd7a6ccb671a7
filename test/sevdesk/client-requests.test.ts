import { MockAgent } from 'undici';
import { describe, expect, it } from 'vitest';
import { createSevdeskClient, DEFAULT_USER_AGENT } from '../../src/sevdesk/client';
import { SevdeskBadRequestError } from '../../src/sevdesk/errors';
import { SevdeskInvalidTokenError, SevdeskServerError } from '../../src/sevdesk/errors';
import { caught, expectNoToken, invoices, useScriptedSevdesk } from './helpers/client';
import { fixture, fixtureObjects, json, text } from './helpers/test-server';

// What the client's calls send (src/sevdesk/client.ts): paths, filters, headers, and the token check.

const sevdesk = useScriptedSevdesk();
const { server, makeClient } = sevdesk;

describe('requests', () => {
  it('sends the raw token in Authorization, a User-Agent, and never the token in the URL', async () => {
    const { token } = sevdesk;
    const { client } = makeClient();
    await client.listInvoices({ limit: 10 });
    const [req] = server.requests;
    expect(req?.headers['authorization']).toBe(token);
    expect(req?.headers['user-agent']).toBe(DEFAULT_USER_AGENT);
    expect(DEFAULT_USER_AGENT).toMatch(
      /^sevsync\/\d+\.\d+\.\d+ \(\+https:\/\/onecockpit\.example\/sevsync\)$/,
    );
    expect(req?.headers['accept']).toBe('application/json');
    expect(req?.rawUrl).not.toContain(token);
    expect(req?.path).toBe('/api/v1/Invoice');
  });

  it('takes a custom User-Agent', async () => {
    const { client } = makeClient({ userAgent: 'test-agent/1' });
    await client.checkToken();
    expect(server.requests[0]?.headers['user-agent']).toBe('test-agent/1');
  });

  it('builds invoice filters with brackets and unix seconds', async () => {
    server.script(json(200, { objects: [], total: '157' }));
    const { client } = makeClient();
    const page = await client.listInvoices({
      limit: 1000,
      offset: 2000,
      countAll: true,
      updateAfter: 1_767_225_600,
      status: '1000',
      originId: '140117702',
      contactId: '98765432',
      invoiceType: 'SR',
    });
    expect(page.total).toBe(157);
    const q = Object.fromEntries(server.requests[0]?.query ?? []);
    expect(q).toEqual({
      limit: '1000',
      offset: '2000',
      countAll: 'true',
      updateAfter: '1767225600',
      status: '1000',
      invoiceType: 'SR',
      'contact[id]': '98765432',
      'contact[objectName]': 'Contact',
      'origin[id]': '140117702',
      'origin[objectName]': 'Invoice',
      showAll: 'true',
    });
  });

  it('always asks for persons too (depth=1) on /Contact; integer total', async () => {
    server.script(json(200, { objects: fixtureObjects('contact_list.json'), total: 1 }));
    const { client } = makeClient();
    const page = await client.listContacts({ updateAfter: 1_767_225_600, countAll: true });
    expect(page.objects[0]?.name).toBe('Musterbau GmbH');
    expect(page.total).toBe(1);
    expect(server.requests[0]?.path).toBe('/api/v1/Contact');
    expect(server.requests[0]?.query.get('depth')).toBe('1');
  });

  it('filters communication ways and addresses by contact', async () => {
    server.script(
      json(200, fixture('communication_way_list.json')),
      json(200, fixture('contact_address_list.json')),
    );
    const { client } = makeClient();
    const ways = await client.listCommunicationWays({ contactId: '98765432', type: 'EMAIL', limit: 100 });
    const addresses = await client.listContactAddresses({ contactId: '98765432' });
    expect(ways.objects).toHaveLength(2);
    expect(ways.total).toBeNull();
    expect(addresses.objects[0]?.city).toBe('München');
    const [w, a] = server.requests;
    expect(w?.path).toBe('/api/v1/CommunicationWay');
    expect(Object.fromEntries(w?.query ?? [])).toEqual({
      limit: '100',
      type: 'EMAIL',
      'contact[id]': '98765432',
      'contact[objectName]': 'Contact',
    });
    expect(a?.path).toBe('/api/v1/ContactAddress');
    expect(a?.query.get('contact[id]')).toBe('98765432');
  });

  it('rejects bad paging and millisecond timestamps before sending anything', async () => {
    const { client } = makeClient();
    await expect(client.listInvoices({ limit: 5000 })).rejects.toBeInstanceOf(SevdeskBadRequestError);
    await expect(client.listInvoices({ limit: 0 })).rejects.toBeInstanceOf(SevdeskBadRequestError);
    await expect(client.listInvoices({ offset: -1 })).rejects.toBeInstanceOf(SevdeskBadRequestError);
    await expect(client.listInvoices({ updateAfter: Date.now() })).rejects.toThrow(/unix seconds/);
    await expect(client.getInvoice('1 OR 1=1')).rejects.toBeInstanceOf(SevdeskBadRequestError);
    expect(client.requestCount()).toBe(0);
    expect(server.requests).toHaveLength(0);
  });

  it('reads a GET by id (a list of one)', async () => {
    server.script(json(200, { objects: [invoices[0]] }), json(200, fixture('contact_list.json')));
    const { client } = makeClient();
    const inv = await client.getInvoice('140112233');
    expect(inv.invoiceNumber).toBe('RE-1042');
    const contact = await client.getContact('98765432');
    expect(contact.id).toBe('98765432');
    expect(server.requests.map((r) => r.path)).toEqual([
      '/api/v1/Invoice/140112233',
      '/api/v1/Contact/98765432',
    ]);
  });

  it('caches static countries per client, and does not cache a failure', async () => {
    const countries = {
      objects: [
        { id: '1', objectName: 'StaticCountry', code: 'de', name: 'Deutschland', nameEn: 'Germany' },
        { id: '2', objectName: 'StaticCountry', code: 'at', name: 'Österreich', nameEn: 'Austria' },
        { id: 'x', objectName: 'StaticCountry', code: 'zz', name: null, nameEn: null },
      ],
    };
    server.script(json(400, { error: { message: 'nope', code: null }, objects: null }), json(200, countries));
    const { client } = makeClient();
    await expect(client.listStaticCountries()).rejects.toBeInstanceOf(SevdeskBadRequestError);
    const first = await client.listStaticCountries();
    const second = await client.listStaticCountries();
    expect(first.map((c) => c.nameEn)).toEqual(['Germany', 'Austria']);
    expect(second).toBe(first);
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]?.query.get('limit')).toBe('1000');
  });

  it('works through an injected dispatcher', async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    agent
      .get('https://sevdesk.test')
      .intercept({ path: '/api/v1/Invoice/140112233', method: 'GET' })
      .reply(200, { objects: [invoices[0]] });
    const client = createSevdeskClient({
      baseUrl: 'https://sevdesk.test/api/v1/',
      token: sevdesk.token,
      dispatcher: agent,
    });
    expect((await client.getInvoice('140112233')).id).toBe('140112233');
    expect(client.requestCount()).toBe(1);
    await agent.close();
  });
});

describe('checkToken', () => {
  it('makes one cheap call', async () => {
    const { client } = makeClient();
    await client.checkToken();
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.path).toBe('/api/v1/Invoice');
    expect(server.requests[0]?.query.get('limit')).toBe('1');
  });

  it('401 → SevdeskInvalidTokenError, exactly one request', async () => {
    server.fallback(json(401, { error: { message: 'Authentication required', code: null }, objects: null }));
    const { client, sleeps } = makeClient();
    const err = await caught(client.checkToken());
    expect(err).toBeInstanceOf(SevdeskInvalidTokenError);
    expect(err).toMatchObject({ type: 'SevdeskInvalidTokenError', status: 401, retryable: false });
    expect(err.url).toBe(`${server.url}/Invoice?limit=1`);
    expect(err.message).toContain('Authentication required');
    expect(server.requests).toHaveLength(1);
    expect(client.requestCount()).toBe(1);
    expect(sleeps).toEqual([]);
    expectNoToken(err, sevdesk.token);
  });

  it('403 with no body (a proxy, not sevDesk) → retryable SevdeskServerError, never an invalid token', async () => {
    server.fallback(text(403, ''));
    const { client } = makeClient();
    const err = await caught(client.checkToken());
    expect(err).toBeInstanceOf(SevdeskServerError);
    expect(err).not.toBeInstanceOf(SevdeskInvalidTokenError);
    expect(err.status).toBe(403);
    expect((err as SevdeskServerError).retryable).toBe(true);
  });

  it('401 with an HTML page from a gateway → retryable SevdeskServerError', async () => {
    server.fallback(text(401, '<html><body><h1>401 Authorization Required</h1></body></html>'));
    const { client } = makeClient();
    const err = await caught(client.checkToken());
    expect(err).toBeInstanceOf(SevdeskServerError);
    expect(err.message).toContain('gateway refused the request');
  });
});
