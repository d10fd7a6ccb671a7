// The URLs webhooks may be delivered to: https://, or plain http:// to a loopback host only (a receiver on
// the same machine); no user name or password, no fragment; an IP address must be one the address policy
// allows (address.ts). A name is checked when the endpoint is added and again on every connect.
import { isIP } from 'node:net';
import type { AddressPolicy } from './address';
import { classifyAddress, refusal } from './address';

const MAX_URL_LENGTH = 2048;

/** localhost, *.localhost, 127.0.0.0/8 and ::1. */
export function isLoopbackName(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  return isIP(h) !== 0 && classifyAddress(h) === 'loopback';
}

export type ParsedWebhookUrl = { ok: true; url: URL } | { ok: false; reason: string };

/** Checks a webhook URL without resolving it; `reason` says what is wrong. */
export function parseWebhookUrl(raw: string, policy: Pick<AddressPolicy, 'allowPrivate'>): ParsedWebhookUrl {
  const text = raw.trim();
  if (text.length > MAX_URL_LENGTH)
    return { ok: false, reason: `is longer than ${MAX_URL_LENGTH} characters` };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, reason: 'is not a URL (expected e.g. https://hooks.example.com/sevsync)' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return { ok: false, reason: `must be an https:// URL, not ${url.protocol}//` };
  if (url.protocol === 'http:' && !isLoopbackName(url.hostname))
    return {
      ok: false,
      reason: `must use https:// (plain http:// is only allowed to a loopback host such as 127.0.0.1): the events would travel unencrypted to ${url.hostname}`,
    };
  if (url.username || url.password) return { ok: false, reason: 'must not contain a user name or password' };
  if (url.hash) return { ok: false, reason: 'must not contain a fragment (#…)' };
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) {
    const why = refusal(host, { allowPrivate: policy.allowPrivate });
    if (why) return { ok: false, reason: `goes to ${why}` };
  }
  return { ok: true, url };
}

/** The URL as logs and errors show it: scheme, host and path (a query may carry a receiver's credential). */
export function displayUrl(url: string | URL): string {
  try {
    const u = typeof url === 'string' ? new URL(url) : url;
    return `${u.origin}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return '(invalid URL)';
  }
}
