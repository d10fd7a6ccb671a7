// Where a stored sevDesk token may be sent. Pure: used by the configuration and the use cases.

const LOOPBACK_NAMES = new Set(['localhost']);

/** 127.0.0.0/8, ::1 and localhost: the sandbox on this machine, the only place plain http is allowed. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (LOOPBACK_NAMES.has(h) || h.endsWith('.localhost')) return true;
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * Checks and normalises a sevDesk API base URL: `https://` (plain `http://` only for a loopback host), no
 * user name or password, no query or fragment; trailing slashes dropped. Returns the reason when refused.
 */
export function parseBaseUrl(raw: string): { ok: true; url: string } | { ok: false; reason: string } {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    return { ok: false, reason: 'is not a URL (expected e.g. https://my.sevdesk.de/api/v1)' };
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    return { ok: false, reason: `must be an https:// URL, not ${u.protocol}//` };
  if (u.protocol === 'http:' && !isLoopbackHost(u.hostname))
    return {
      ok: false,
      reason: `must use https:// (plain http:// is only allowed for a loopback host such as 127.0.0.1): the token would travel unencrypted to ${u.hostname}`,
    };
  if (u.username || u.password) return { ok: false, reason: 'must not contain a user name or password' };
  if (u.search || u.hash) return { ok: false, reason: 'must not contain a query or fragment' };
  return { ok: true, url: `${u.origin}${u.pathname}`.replace(/\/+$/, '') };
}
