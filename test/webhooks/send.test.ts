// Where a webhook may go and how one POST behaves: https, or http to loopback only; private ranges refused
// unless allowed (also when a name resolves to them); no redirects; one time limit.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyAddress, guardedLookup, refusal } from '../../src/webhooks/address';
import { WebhookSender } from '../../src/webhooks/send';
import { parseWebhookUrl } from '../../src/webhooks/url';

describe('addresses', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['169.254.169.254', 'private'],
    ['fd00::1', 'private'],
    ['fe80::1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:a00:1', 'private'],
    ['64:ff9b::a00:1', 'private'],
    ['0.0.0.0', 'forbidden'],
    ['::', 'forbidden'],
    ['224.0.0.1', 'forbidden'],
    ['255.255.255.255', 'forbidden'],
    ['ff02::1', 'forbidden'],
    ['8.8.8.8', 'public'],
    ['172.32.0.1', 'public'],
    ['2606:4700::1111', 'public'],
    ['not an ip', 'forbidden'],
  ])('%s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });

  it('private ranges are refused unless allowed; loopback always allowed; forbidden never', () => {
    expect(refusal('10.0.0.1', { allowPrivate: false })).toMatch(
      /private network.*SEVSYNC_WEBHOOK_ALLOW_PRIVATE/,
    );
    expect(refusal('10.0.0.1', { allowPrivate: true })).toBeUndefined();
    expect(refusal('127.0.0.1', { allowPrivate: false })).toBeUndefined();
    expect(refusal('0.0.0.0', { allowPrivate: true })).toMatch(/not an address/);
    expect(refusal('8.8.8.8', { allowPrivate: true, loopbackOnly: true })).toMatch(/not a loopback/);
  });

  it('a resolved name is checked before the connection is made, and connects to the checked address', async () => {
    const lookup = (host: string, policy: Parameters<typeof guardedLookup>[0]) =>
      new Promise<{ err: Error | null; addresses: unknown }>((resolve) =>
        guardedLookup(policy)(host, { all: true }, (err, addresses) => resolve({ err, addresses })),
      );
    // dns.lookup answers an address literal with itself: the same path a name resolving to it takes.
    const refused = await lookup('10.1.2.3', { allowPrivate: false });
    expect(refused.err?.message).toMatch(/10\.1\.2\.3 resolves to 10\.1\.2\.3 is in a private network range/);
    expect((await lookup('10.1.2.3', { allowPrivate: true })).err).toBeNull();
    const local = await lookup('localhost', { allowPrivate: false, loopbackOnly: true });
    expect(local.err).toBeNull();
    expect(local.addresses).toEqual(
      expect.arrayContaining([expect.objectContaining({ address: expect.stringMatching(/^(127\.|::1)/) })]),
    );
  });
});

describe('webhook URLs', () => {
  const ok = (url: string, allowPrivate = false) => parseWebhookUrl(url, { allowPrivate });
  it.each([
    'https://hooks.example.com/sevsync',
    'https://hooks.example.com:8443/in?key=abc',
    'http://127.0.0.1:9999/hook',
    'http://localhost:9999/hook',
    'http://[::1]:9999/hook',
    'https://8.8.8.8/hook',
  ])('%s is accepted', (url) => {
    expect(ok(url)).toMatchObject({ ok: true });
  });

  it.each([
    ['http://hooks.example.com/in', /must use https:\/\/.*unencrypted/],
    ['http://10.0.0.1/in', /must use https/],
    ['ftp://hooks.example.com/in', /must be an https:\/\/ URL, not ftp:/],
    ['https://user:pw@hooks.example.com/in', /user name or password/],
    ['https://hooks.example.com/in#frag', /fragment/],
    ['https://10.0.0.1/in', /private network range/],
    ['https://169.254.169.254/latest/meta-data', /private network range/],
    ['https://[fd00::1]/in', /private network range/],
    ['https://0.0.0.0/in', /not an address/],
    ['hooks.example.com', /is not a URL/],
  ])('%s is refused', (url, reason) => {
    const r = ok(url);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.reason).toMatch(reason);
  });

  it('a private address is accepted when the setting allows it', () => {
    expect(ok('https://10.0.0.1/in', true)).toMatchObject({ ok: true });
    expect(ok('https://0.0.0.0/in', true)).toMatchObject({ ok: false });
  });
});

describe('one POST', () => {
  let server: http.Server;
  let base = '';
  const seen: string[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.url ?? '');
      req.resume();
      req.on('end', () => {
        if (req.url === '/ok') return res.writeHead(204).end();
        if (req.url === '/fail') return res.writeHead(500).end('database\n is\tdown '.repeat(50));
        if (req.url === '/redirect') return res.writeHead(302, { location: '/ok' }).end();
        if (req.url === '/slow') return; // never answers
        res.writeHead(404).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const sender = () => new WebhookSender({ timeoutMs: 500, allowPrivate: false });

  it('2xx is ok; 5xx is a failure with the start of the answer on one line', async () => {
    const s = sender();
    try {
      expect(await s.send(`${base}/ok`, {}, '{}')).toMatchObject({ ok: true, status: 204, error: null });
      const failed = await s.send(`${base}/fail`, {}, '{}');
      expect(failed).toMatchObject({ ok: false, status: 500 });
      expect(failed.error).toMatch(/^HTTP 500: database is down database is down/);
      expect(failed.error!.length).toBeLessThan(230);
      // By name too: localhost resolves to loopback, which plain http may use.
      expect(await s.send(`${base.replace('127.0.0.1', 'localhost')}/ok`, {}, '{}')).toMatchObject({
        ok: true,
      });
    } finally {
      await s.close();
    }
  });

  it('a redirect is a failure and is not followed', async () => {
    const s = sender();
    try {
      seen.length = 0;
      const r = await s.send(`${base}/redirect`, {}, '{}');
      expect(r).toMatchObject({ ok: false, status: 302 });
      expect(r.error).toMatch(/redirects are not followed \(to http:\/\/127\.0\.0\.1:\d+\/ok\)/);
      expect(seen).toEqual(['/redirect']);
    } finally {
      await s.close();
    }
  });

  it('no answer within the time limit is a failure', async () => {
    const s = sender();
    try {
      const started = Date.now();
      const r = await s.send(`${base}/slow`, {}, '{}');
      expect(r).toMatchObject({ ok: false, status: null, error: 'no answer within 500 ms' });
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await s.close();
    }
  });

  it('refuses before connecting: a private address, plain http off loopback, a dead port', async () => {
    const s = sender();
    try {
      expect((await s.send('https://10.9.9.9/in', {}, '{}')).error).toMatch(/private network range/);
      expect((await s.send('http://hooks.example.com/in', {}, '{}')).error).toMatch(/must use https/);
      const dead = await s.send('http://127.0.0.1:9/in', {}, '{}');
      expect(dead).toMatchObject({ ok: false, status: null });
      expect(dead.error).toMatch(/ECONNREFUSED/);
    } finally {
      await s.close();
    }
  });

  it('a cancellation rejects instead of reporting a failure', async () => {
    const s = sender();
    try {
      const ac = new AbortController();
      setTimeout(() => ac.abort(new Error('cancelled by the test')), 50);
      await expect(s.send(`${base}/slow`, {}, '{}', ac.signal)).rejects.toThrow('cancelled by the test');
    } finally {
      await s.close();
    }
  });
});
