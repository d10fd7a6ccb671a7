import { requireKeyring } from '../config';
import { listStoredTokens, replaceStoredToken } from '../db/interfaces';
import { listWebhookSecrets, replaceWebhookSecret } from '../db/webhooks';
import { TokenDecryptError, decryptToken, encryptToken, isCurrentFormat } from '../secrets';
import { resealWebhookSecret } from '../webhooks/secret';
import type { AppDeps } from './deps';

export interface RotateResult {
  /** Re-encrypted with the current key (and the current format). */
  rotated: string[];
  /** Already encrypted with the current key. */
  current: string[];
  /** Could not be opened with any configured key (or changed meanwhile): left as they are. */
  failed: { accountId: string; reason: string }[];
  /** The webhook signing secrets, the same way (by endpoint id). */
  webhooks: {
    rotated: string[];
    current: string[];
    failed: { id: string; reason: string }[];
  };
}

/**
 * `keys rotate`: re-encrypts every stored token with the current (first) key, bound to its account and
 * origin; rows of the old format (no associated data) are upgraded. Then the webhook signing secrets.
 * Idempotent; never prints a token or a secret.
 */
export async function rotateKeys(deps: Pick<AppDeps, 'db' | 'config'>): Promise<RotateResult> {
  const ring = requireKeyring(deps.config);
  const result: RotateResult = {
    rotated: [],
    current: [],
    failed: [],
    webhooks: { rotated: [], current: [], failed: [] },
  };
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
  for (const row of await listWebhookSecrets(deps.db.sql)) {
    if (isCurrentFormat(ring, row)) {
      result.webhooks.current.push(row.id);
      continue;
    }
    let next;
    try {
      next = resealWebhookSecret(ring, row);
    } catch (err) {
      if (!(err instanceof TokenDecryptError)) throw err;
      result.webhooks.failed.push({
        id: row.id,
        reason: err.message.replace(/sevDesk token/g, 'signing secret'),
      });
      continue;
    }
    if (await replaceWebhookSecret(deps.db.sql, row.id, row, next)) result.webhooks.rotated.push(row.id);
    else result.webhooks.failed.push({ id: row.id, reason: 'the secret changed meanwhile; run it again' });
  }
  return result;
}
