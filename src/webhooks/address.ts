// Which network addresses a webhook may be delivered to. Loopback is allowed (plain http only goes there);
// private networks (RFC 1918, CGNAT, link-local, unique-local, documentation and benchmark ranges) only when
// SEVSYNC_WEBHOOK_ALLOW_PRIVATE says so; unspecified, multicast and reserved addresses never. A name is
// resolved once, every address it resolves to is checked, and the connection goes to the checked address
// (`guardedLookup`): a DNS answer that changes between the check and the connect cannot redirect it.
import type { LookupAddress, LookupAllOptions, LookupOneOptions } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP } from 'node:net';

export type AddressKind = 'loopback' | 'private' | 'public' | 'forbidden';

function list(ranges: [string, number, 'ipv4' | 'ipv6'][]): BlockList {
  const b = new BlockList();
  for (const [net, prefix, type] of ranges) b.addSubnet(net, prefix, type);
  return b;
}

const LOOPBACK = list([
  ['127.0.0.0', 8, 'ipv4'],
  ['::1', 128, 'ipv6'],
]);

const FORBIDDEN = list([
  ['0.0.0.0', 8, 'ipv4'], // "this network"
  ['224.0.0.0', 4, 'ipv4'], // multicast
  ['240.0.0.0', 4, 'ipv4'], // reserved, broadcast
  ['::', 128, 'ipv6'], // unspecified
  ['ff00::', 8, 'ipv6'], // multicast
]);

const PRIVATE = list([
  ['10.0.0.0', 8, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'], // carrier-grade NAT
  ['169.254.0.0', 16, 'ipv4'], // link-local (cloud metadata services)
  ['192.0.0.0', 24, 'ipv4'], // IETF protocol assignments
  ['192.0.2.0', 24, 'ipv4'], // documentation
  ['198.18.0.0', 15, 'ipv4'], // benchmarking
  ['198.51.100.0', 24, 'ipv4'], // documentation
  ['203.0.113.0', 24, 'ipv4'], // documentation
  ['fc00::', 7, 'ipv6'], // unique local
  ['fe80::', 10, 'ipv6'], // link-local
  ['2001:db8::', 32, 'ipv6'], // documentation
  ['64:ff9b:1::', 48, 'ipv6'], // local-use NAT64
]);

/** The 16 bytes of an IPv6 address in text form (with `::` and a trailing dotted quad). */
function ipv6Bytes(address: string): number[] | undefined {
  let text = address.toLowerCase().replace(/%.*$/, '');
  const quad = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const missing = 8 - h.length - t.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return undefined;
  const all = [...h, ...Array<string>(missing).fill('0'), ...t];
  const bytes: number[] = [];
  for (const g of all) {
    const n = parseInt(g, 16);
    if (!/^[0-9a-f]{1,4}$/.test(g)) return undefined;
    bytes.push(n >> 8, n & 0xff);
  }
  return bytes;
}

/** The IPv4 address an IPv6 one carries: IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::a.b.c.d). */
function embeddedIpv4(address: string): string | undefined {
  const b = ipv6Bytes(address);
  if (!b) return undefined;
  const prefix = b.slice(0, 12).join(',');
  const mapped = '0,0,0,0,0,0,0,0,0,0,255,255';
  const nat64 = '0,100,255,155,0,0,0,0,0,0,0,0';
  return prefix === mapped || prefix === nat64 ? b.slice(12).join('.') : undefined;
}

/** What kind of destination an IP address is. */
export function classifyAddress(address: string): AddressKind {
  const family = isIP(address);
  if (family === 0) return 'forbidden';
  if (family === 6) {
    const v4 = embeddedIpv4(address);
    if (v4) return classifyAddress(v4);
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (LOOPBACK.check(address, type)) return 'loopback';
  if (FORBIDDEN.check(address, type)) return 'forbidden';
  if (PRIVATE.check(address, type)) return 'private';
  return 'public';
}

export interface AddressPolicy {
  /** Deliver to private networks too (SEVSYNC_WEBHOOK_ALLOW_PRIVATE). */
  allowPrivate: boolean;
  /** Only loopback (plain http). */
  loopbackOnly?: boolean;
}

/** Why an address is refused under the policy, or undefined when it is allowed. */
export function refusal(address: string, policy: AddressPolicy): string | undefined {
  const kind = classifyAddress(address);
  if (policy.loopbackOnly && kind !== 'loopback')
    return `${address} is not a loopback address (plain http:// goes to loopback only; use https://)`;
  if (kind === 'forbidden') return `${address} is not an address webhooks can be delivered to`;
  if (kind === 'private' && !policy.allowPrivate)
    return `${address} is in a private network range (SEVSYNC_WEBHOOK_ALLOW_PRIVATE=1 allows it)`;
  return undefined;
}

export class WebhookAddressError extends Error {
  override readonly name = 'WebhookAddressError';
  readonly code = 'EWEBHOOKADDRESS';
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for net.connect / tls.connect: resolves the name once, refuses it if any address it resolves
 * to is refused, and hands the checked addresses to the connect (no second resolution).
 */
export function guardedLookup(policy: AddressPolicy) {
  return (hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      if (addresses.length === 0)
        return callback(Object.assign(new Error(`${hostname} did not resolve`), { code: 'ENOTFOUND' }), []);
      for (const a of addresses) {
        const why = refusal(a.address, policy);
        if (why) return callback(new WebhookAddressError(`${hostname} resolves to ${why}`), []);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0]!;
      return callback(null, first.address, first.family);
    });
  };
}

/** Resolves a name (or takes an IP literal) and checks every address; the refusal, or undefined. */
export async function checkHost(hostname: string, policy: AddressPolicy): Promise<string | undefined> {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return refusal(host, policy);
  const addresses = await new Promise<LookupAddress[]>((resolve, reject) =>
    dnsLookup(host, { all: true }, (err, a) => (err ? reject(err) : resolve(a))),
  ).catch((err: NodeJS.ErrnoException) => {
    throw new WebhookAddressError(`${host} does not resolve (${err.code ?? err.message})`);
  });
  for (const a of addresses) {
    const why = refusal(a.address, policy);
    if (why) return `${host} resolves to ${why}`;
  }
  return undefined;
}
