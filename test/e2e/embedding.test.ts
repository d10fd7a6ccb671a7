// Embedded in OneCockpit: embed tokens (JWTs for one account), sessions shared by every replica, a
// TLS-terminating proxy in front, limits on token checks and failed sign-ins, bounded request times, the
// audit log. Servers are real (the application layer on the test database); sevDesk is a sandbox.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import net from 'node:net';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../sandbox';
import { startSandbox } from '../../sandbox';
import type { ServeSettings } from '../../src/server/settings';
import { randomId, testConfig, testDb } from '../helpers/env';
import type { TestServer } from './http-harness';
import { startTestServer } from './http-harness';

const config = testConfig();
const db = testDb();
const secret = randomBytes(32).toString('hex');
const embed = { kind: 'secret', secret } as const;
let sb: Sandbox;
const servers: TestServer[] = [];

async function server(settings: Partial<ServeSettings> = {}): Promise<TestServer> {
  const s = await startTestServer(config, sb, {
    allowTokenSignIn: false,
    authFailuresPerAddress: 10,
    embed,
    ...settings,
  });
  servers.push(s);
  return s;
}

function jwt(
  claims: Record<string, unknown>,
  opts: { key?: Uint8Array; aud?: string; exp?: string | number; iat?: number } = {},
): Promise<string> {
  const t = new SignJWT({ account: 'acc-x', ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setAudience(opts.aud ?? 'sevsync')
    .setSubject('coach-1')
    .setIssuedAt(opts.iat)
    .setExpirationTime(opts.exp ?? '10m');
  return t.sign(opts.key ?? Buffer.from(secret, 'utf8'));
}

const get = (s: TestServer, url: string, headers: Record<string, string> = {}) =>
  s.app.inject({ method: 'GET', url, headers });

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Opens /ui/embed's form post as the page's script does; the session cookie ("name=value"). */
async function embedSignIn(s: TestServer, token: string, headers: Record<string, string> = {}) {
  const host = headers.host ?? 'localhost:80';
  const r = await s.app.inject({
    method: 'POST',
    url: '/ui/embed',
    headers: {
      host,
      origin: `http://${host}`,
      'content-type': 'application/x-www-form-urlencoded',
      ...headers,
    },
    payload: `code=${encodeURIComponent(token)}`,
  });
  return { r, cookie: String(r.headers['set-cookie'] ?? '').split(';')[0]! };
}

beforeAll(async () => {
  sb = await startSandbox({ seed: 2626, data: { invoices: 5 } });
});

afterAll(async () => {
  for (const s of servers) await s.close();
  await sb?.close();
  await db.close();
});

describe('embed tokens', () => {
  it('read their own account, get 403 on another, 401 when expired, mis-signed, for another audience or too long-lived', async () => {
    const s = await server();
    const x = await jwt({});
    // No interface yet: 404 means authorized and looked up.
    const own = await get(s, '/api/accounts/acc-x/status', bearer(x));
    expect(own.statusCode).toBe(404);
    const other = await get(s, '/api/accounts/acc-y/status', bearer(x));
    expect(other.statusCode).toBe(403);
    expect(other.json()).toEqual({ error: { type: 'forbidden', message: expect.any(String) } });
    // Every account's routes need the API token.
    expect((await get(s, '/api/events', bearer(x))).statusCode).toBe(403);

    const now = Math.floor(Date.now() / 1000);
    const refused: [string, string, RegExp][] = [
      ['expired', await jwt({}, { iat: now - 7200, exp: now - 3600 }), /expired/],
      ['mis-signed', await jwt({}, { key: randomBytes(32) }), /signature/],
      ['another audience', await jwt({}, { aud: 'someone-else' }), /aud/],
      ['too long-lived', await jwt({}, { exp: '3h' }), /longer than 60 minutes/],
      ['no account', await jwt({ account: undefined }), /account/],
    ];
    for (const [what, token, reason] of refused) {
      const r = await get(s, '/api/accounts/acc-x/status', bearer(token));
      expect(r.statusCode, what).toBe(401);
      expect(r.json<{ error: { message: string } }>().error.message, what).toMatch(reason);
      expect(r.body).not.toContain(secret);
    }
  });

  it('take an Ed25519 public key instead of a shared secret', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const s = await server({ embed: { kind: 'public-key', pem } });
    const token = await new SignJWT({ account: 'acc-ed' })
      .setProtectedHeader({ alg: 'EdDSA' })
      .setAudience('sevsync')
      .setSubject('coach-2')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    expect((await get(s, '/api/accounts/acc-ed/status', bearer(token))).statusCode).toBe(404);
    expect((await get(s, '/api/accounts/acc-x/status', bearer(token))).statusCode).toBe(403);
    // An HS256 token is refused when the key is a public key (no algorithm confusion).
    expect(
      (await get(s, '/api/accounts/acc-ed/status', bearer(await jwt({ account: 'acc-ed' })))).statusCode,
    ).toBe(401);
  });

  it('open a session for their account only at /ui/embed, which works on another replica and after a restart', async () => {
    const a = await server();
    const b = await server();
    const account = randomId('embed');
    const page = await get(a, '/ui/embed');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('action="/ui/embed"');

    const { r, cookie } = await embedSignIn(a, await jwt({ account }));
    expect(r.statusCode).toBe(303);
    expect(r.headers.location).toBe(`/ui/accounts/${account}/interface`);
    expect(String(r.headers['set-cookie'])).toMatch(/HttpOnly/i);
    // Replica b never saw this session; it lives in the database.
    const onB = await get(b, `/ui/accounts/${account}/interface`, { cookie });
    expect(onB.statusCode).toBe(200);
    expect(onB.body).toContain('API-Token');
    const elsewhere = await get(b, `/ui/accounts/other-${account}/interface`, { cookie });
    expect(elsewhere.statusCode).toBe(403);
    // A restart: a new process with nothing in memory.
    await a.close();
    servers.splice(servers.indexOf(a), 1);
    const c = await server();
    expect((await get(c, `/api/accounts/${account}/status`, { cookie })).statusCode).toBe(404);
    // Signing out ends it everywhere.
    const out = await c.app.inject({
      method: 'POST',
      url: '/ui/sign-out',
      headers: { cookie, host: 'localhost:80', origin: 'http://localhost:80' },
    });
    expect(out.statusCode).toBe(303);
    expect((await get(b, `/api/accounts/${account}/status`, { cookie })).statusCode).toBe(401);

    const bad = await embedSignIn(c, await jwt({ account }, { key: randomBytes(32) }));
    expect(bad.r.statusCode).toBe(401);
    expect(bad.r.headers['set-cookie']).toBeUndefined();
  });

  it('one-time links made on one replica open a session on another, once', async () => {
    const a = await server();
    const b = await server();
    const made = await a.app.inject({
      method: 'POST',
      url: '/api/sign-in-links',
      headers: bearer(a.apiToken),
      payload: { account: 'acc-link' },
    });
    expect(made.statusCode).toBe(201);
    const code = made.json<{ url: string }>().url.split('#')[1]!;
    const redeem = (s: TestServer) =>
      s.app.inject({
        method: 'POST',
        url: '/ui/sign-in/link',
        headers: {
          host: 'localhost:80',
          origin: 'http://localhost:80',
          'content-type': 'application/x-www-form-urlencoded',
        },
        payload: `code=${code}`,
      });
    const first = await redeem(b);
    expect(first.statusCode).toBe(303);
    expect((await redeem(a)).statusCode).toBe(401);
    const cookie = String(first.headers['set-cookie']).split(';')[0]!;
    expect((await get(a, '/api/accounts/acc-link/status', { cookie })).statusCode).toBe(404);
  });
});

describe("the backend's credential", () => {
  it('takes several API tokens (rotation); the sign-in form refuses the API token unless allowed', async () => {
    const old = randomBytes(20).toString('hex');
    const next = randomBytes(20).toString('hex');
    const s = await server({ apiTokens: [next, old] });
    for (const t of [old, next])
      expect((await get(s, '/api/accounts/none/status', bearer(t))).statusCode).toBe(404);
    const form = await get(s, '/ui/sign-in');
    expect(form.body).not.toContain('name="token"');
    const typed = await s.app.inject({
      method: 'POST',
      url: '/ui/sign-in',
      headers: {
        host: 'localhost:80',
        origin: 'http://localhost:80',
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: `token=${old}&next=/ui/`,
    });
    expect(typed.statusCode).toBe(403);
    expect(typed.headers['set-cookie']).toBeUndefined();
  });
});

describe('behind a TLS-terminating proxy', () => {
  const publicOrigin = 'https://sync.example.com';
  const viaProxy = (client: string) => ({
    host: 'sync.example.com',
    'x-forwarded-proto': 'https',
    'x-forwarded-for': client,
  });

  it('signs in and posts forms with the public origin, sets a Secure __Host- cookie, sends HSTS', async () => {
    const s = await server({ publicOrigin, trustedProxies: ['127.0.0.1'] });
    const account = randomId('proxy');
    const { r, cookie } = await embedSignIn(s, await jwt({ account }), {
      ...viaProxy('203.0.113.7'),
      origin: publicOrigin,
    });
    expect(r.statusCode).toBe(303);
    const setCookie = String(r.headers['set-cookie']);
    expect(setCookie).toMatch(/^__Host-sevsync_session=/);
    expect(setCookie).toMatch(/; Secure/i);
    expect(setCookie).toMatch(/Path=\//);
    expect(r.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    // A form post from the page (Origin = the public origin) passes the Origin check.
    const post = await s.app.inject({
      method: 'POST',
      url: `/ui/accounts/${account}/import`,
      headers: { ...viaProxy('203.0.113.7'), cookie, origin: publicOrigin },
    });
    expect(post.statusCode).not.toBe(403);
    const cross = await s.app.inject({
      method: 'POST',
      url: `/ui/accounts/${account}/import`,
      headers: { ...viaProxy('203.0.113.7'), cookie, origin: 'https://evil.example' },
    });
    expect(cross.statusCode).toBe(403);
    // Links carry the public origin.
    const link = await s.app.inject({
      method: 'POST',
      url: '/api/sign-in-links',
      headers: { ...bearer(s.apiToken), ...viaProxy('203.0.113.7') },
      payload: {},
    });
    expect(link.json<{ url: string }>().url).toMatch(/^https:\/\/sync\.example\.com\/ui\/sign-in\/link#/);

    const { audit } = await lastAudit(account, 'sign_in');
    expect(audit).toMatchObject({ actor: 'embed:coach-1', ip: '203.0.113.7', detail: { method: 'embed' } });
  });

  it('throttles failed authentication per real client address, not per proxy', async () => {
    const s = await server({ publicOrigin, trustedProxies: ['127.0.0.1'] });
    const wrong = bearer('w'.repeat(40));
    for (let i = 0; i < 10; i++)
      expect(
        (await get(s, '/api/accounts/a/status', { ...wrong, ...viaProxy('198.51.100.1') })).statusCode,
      ).toBe(401);
    const blocked = await get(s, '/api/accounts/a/status', {
      ...bearer(s.apiToken),
      ...viaProxy('198.51.100.1'),
    });
    expect(blocked.statusCode).toBe(429);
    // Another client behind the same proxy is not locked out.
    expect(
      (await get(s, '/api/accounts/a/status', { ...bearer(s.apiToken), ...viaProxy('198.51.100.2') }))
        .statusCode,
    ).toBe(404);
    // Without a trusted proxy, X-Forwarded-For is not believed: a forged header does not dodge the throttle.
    const direct = await server();
    for (let i = 0; i < 10; i++)
      await get(direct, '/api/accounts/a/status', { ...wrong, 'x-forwarded-for': `192.0.2.${i}` });
    expect(
      (
        await get(direct, '/api/accounts/a/status', {
          ...bearer(direct.apiToken),
          'x-forwarded-for': '192.0.2.99',
        })
      ).statusCode,
    ).toBe(429);
  });
});

describe('token checks at sevDesk', () => {
  it('answers the 11th check in a minute for one account with 429, and limits one caller across accounts', async () => {
    const s = await server();
    const account = randomId('oracle');
    const check = (acc: string, who = s.apiToken) =>
      s.app.inject({
        method: 'POST',
        url: `/api/accounts/${acc}/interface`,
        headers: bearer(who),
        payload: { token: randomBytes(16).toString('hex') },
      });
    for (let i = 0; i < 10; i++) expect((await check(account)).statusCode).toBe(422);
    const eleventh = await check(account);
    expect(eleventh.statusCode).toBe(429);
    expect(Number(eleventh.headers['retry-after'])).toBeGreaterThan(0);
    expect(eleventh.json()).toEqual({ error: { type: 'rate_limited', message: expect.any(String) } });

    const t = await server({ tokenChecksPerCaller: 3 });
    const x = await jwt({ account: 'caller-a' });
    const viaEmbed = (acc: string) =>
      t.app.inject({
        method: 'POST',
        url: `/api/accounts/${acc}/interface`,
        headers: bearer(x),
        payload: { token: randomBytes(16).toString('hex') },
      });
    for (let i = 0; i < 3; i++) expect((await viaEmbed('caller-a')).statusCode).toBe(422);
    expect((await viaEmbed('caller-a')).statusCode).toBe(429);
  });
});

describe('bounded requests', () => {
  it('cuts a slow body off at the request timeout', async () => {
    const s = await server({ requestTimeoutMs: 1000 });
    const url = new URL(await s.listen());
    const started = Date.now();
    const closed = await new Promise<{ data: string; ms: number }>((resolve, reject) => {
      const sock = net.connect(Number(url.port), url.hostname);
      let data = '';
      let timer: NodeJS.Timeout | undefined;
      sock.on('connect', () => {
        sock.write(
          `POST /api/accounts/a/sync-now HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${s.apiToken}\r\n` +
            'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n',
        );
        // One byte every 200 ms: the body would take 200 s.
        timer = setInterval(() => sock.write('{'), 200);
      });
      sock.on('data', (d: Buffer) => (data += d.toString()));
      sock.on('error', () => {});
      sock.on('close', () => {
        clearInterval(timer);
        resolve({ data, ms: Date.now() - started });
      });
      setTimeout(() => {
        sock.destroy();
        reject(new Error('the slow request was not cut off within 15 s'));
      }, 15_000).unref();
    });
    expect(closed.ms).toBeLessThan(10_000);
    expect(closed.data).toMatch(/^HTTP\/1\.1 408/);
  });
});

async function lastAudit(account: string, action: string) {
  const rows = await db.sql<
    { actor: string; action: string; ip: string; detail: Record<string, unknown> }[]
  >`select actor, action, ip, detail from audit_log where account_id = ${account} and action = ${action}
    order by id desc limit 1`;
  return { audit: rows[0] };
}
