import { requireKeyring } from '../config';
import type { InterfaceRecord } from '../db/interfaces';
import type { EncryptedToken } from '../secrets';
import { TokenDecryptError, decryptToken, encryptToken, isPlausibleToken } from '../secrets';
import { SevdeskInvalidTokenError, isSevdeskError } from '../sevdesk/errors';
import { SOURCE_SEVDESK } from '../shared';
import { parseBaseUrl } from './base-url';
import type { AppDeps } from './deps';
import { AppError } from './errors';

/** Where a token may go: https, or http on a loopback host (the sandbox). Normalised without trailing slash. */
export function requireBaseUrl(raw: string): string {
  const r = parseBaseUrl(raw);
  if (!r.ok) throw new AppError('invalid_input', `the sevDesk base URL ${r.reason}`);
  return r.url;
}

/** Checks a token's shape and then asks sevDesk; messages never contain the token. */
export async function checkToken(deps: Pick<AppDeps, 'sevdesk'>, baseUrl: string, token: string) {
  if (!isPlausibleToken(token)) {
    throw new AppError(
      'invalid_token',
      'the sevDesk API token must be 32 hexadecimal characters (sevDesk: Settings > Users > API token)',
    );
  }
  try {
    await deps.sevdesk({ baseUrl, token }).checkToken();
  } catch (err) {
    if (err instanceof SevdeskInvalidTokenError)
      throw new AppError('invalid_token', `sevDesk rejected the API token (HTTP 401) at ${baseUrl}`);
    if (isSevdeskError(err))
      throw new AppError(
        'unavailable',
        `could not check the token against sevDesk at ${baseUrl}: ${scrub(err.message, token)}`,
      );
    throw err;
  }
}

/** Belt and braces: an error text from below never carries the token. */
const scrub = (text: string, token: string) => (token ? text.split(token).join('[token]') : text);

export function sealToken(
  deps: Pick<AppDeps, 'config'>,
  accountId: string,
  baseUrl: string,
  token: string,
): EncryptedToken {
  return encryptToken(requireKeyring(deps.config), { accountId, provider: SOURCE_SEVDESK, baseUrl }, token);
}

/** The stored token of an interface, or undefined when no configured key opens it. */
export function openStoredToken(
  deps: Pick<AppDeps, 'config'>,
  iface: Pick<InterfaceRecord, 'accountId' | 'baseUrl' | 'tokenCiphertext' | 'tokenKeyId'>,
): string | undefined {
  try {
    return decryptToken(
      requireKeyring(deps.config),
      { accountId: iface.accountId, provider: SOURCE_SEVDESK, baseUrl: iface.baseUrl },
      { ciphertext: iface.tokenCiphertext, keyId: iface.tokenKeyId },
    );
  } catch (err) {
    if (err instanceof TokenDecryptError) return undefined;
    throw err;
  }
}
