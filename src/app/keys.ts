import { requireKeyring } from '../config';
import { listStoredTokens, replaceStoredToken } from '../db/interfaces';
import { TokenDecryptError, decryptToken, encryptToken, isCurrentFormat } from '../secrets';
import type { AppDeps } from './deps';

export interface RotateResult {
  /** Re-encrypted with the current key (and the current format). */
  rotated: string[];
  /** Already encrypted with the current key. */
  current: string[];
  /** Could not be opened with any configured key (or changed meanwhile): left as they are. */
  failed: { accountId: string; reason: string }[];
}

/**
 * `keys rotate`: re-encrypts every stored token with the current (first) key, bound to its account and
 * origin; rows of the old format (no associated data) are upgraded. Idempotent; never prints a token.
 */
export async function rotateKeys(deps: Pick<AppDeps, 'db' | 'config'>): Promise<RotateResult> {
  const ring = requireKeyring(deps.config);
  const result: RotateResult = { rotated: [], current: [], failed: [] };
  for (const row of await listStoredTokens(deps.db.sql)) {
    const stored = { ciphertext: row.ciphertext, keyId: row.keyId };
    if (isCurrentFormat(ring, stored)) {
      result.current.push(row.accountId);
      continue;
    }
    let token: string;
    try {
      token = decryptToken(ring, row, stored);
    } catch (err) {
      if (!(err instanceof TokenDecryptError)) throw err;
      result.failed.push({ accountId: row.accountId, reason: err.message });
      continue;
    }
    const next = encryptToken(ring, row, token);
    if (await replaceStoredToken(deps.db.sql, row, next)) result.rotated.push(row.accountId);
    else
      result.failed.push({ accountId: row.accountId, reason: 'the token changed meanwhile; run it again' });
  }
  return result;
}
