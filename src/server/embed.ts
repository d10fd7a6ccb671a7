// Embed tokens: OneCockpit's backend signs a short-lived JWT for one of its users and one account
// (`aud: "sevsync"`, `sub`, `account`, `iat`, `exp` at most an hour ahead); every replica checks it with the
// same key, so no state is shared. HS256 with SEVSYNC_EMBED_SECRET, or EdDSA/ES256 with a public key.
import { createSecretKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { errors, importSPKI, jwtVerify } from 'jose';
import type { EmbedKeySetting } from './settings';
import { ServeSettingsError } from './settings';

export const EMBED_AUDIENCE = 'sevsync';
/** The longest an embed token may live (exp - iat), and how far ahead its exp may be. */
export const EMBED_MAX_LIFETIME_S = 60 * 60;
/** Clocks of OneCockpit's backend and ours may differ this much. */
const CLOCK_TOLERANCE_S = 30;

export interface EmbedClaims {
  /** OneCockpit's user. */
  sub: string;
  account: string;
  /** When the token expires (epoch seconds). */
  exp: number;
}

/** Why a token was refused: the caller learns which rule, never anything about the key. */
export class EmbedTokenError extends Error {
  override readonly name = 'EmbedTokenError';
}

/** The three base64url parts of a compact JWS (an API token is hex: never this shape). */
export const looksLikeJwt = (token: string): boolean =>
  /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);

export interface EmbedVerifier {
  verify(token: string): Promise<EmbedClaims>;
}

export async function embedVerifier(
  setting: EmbedKeySetting,
  now: () => number = Date.now,
): Promise<EmbedVerifier> {
  let key: KeyObject | PublicKey;
  let algorithms: string[];
  if (setting.kind === 'secret') {
    key = createSecretKey(Buffer.from(setting.secret, 'utf8'));
    algorithms = ['HS256'];
  } else {
    const imported = await publicKey(setting.pem);
    key = imported.key;
    algorithms = imported.algorithms;
  }
  return {
    async verify(token) {
      let payload;
      try {
        ({ payload } = await jwtVerify(token, key, {
          audience: EMBED_AUDIENCE,
          algorithms,
          requiredClaims: ['sub', 'exp', 'iat'],
          clockTolerance: CLOCK_TOLERANCE_S,
          currentDate: new Date(now()),
        }));
      } catch (err) {
        throw new EmbedTokenError(reason(err));
      }
      const account = payload['account'];
      if (typeof account !== 'string' || account.length === 0 || account.length > 128)
        throw new EmbedTokenError('the embed token names no account (claim "account")');
      if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 256)
        throw new EmbedTokenError('the embed token names no user (claim "sub")');
      const exp = payload.exp!;
      const iat = payload.iat!;
      const nowS = Math.floor(now() / 1000);
      if (exp - iat > EMBED_MAX_LIFETIME_S || exp > nowS + EMBED_MAX_LIFETIME_S + CLOCK_TOLERANCE_S)
        throw new EmbedTokenError(`the embed token lives longer than ${EMBED_MAX_LIFETIME_S / 60} minutes`);
      return { sub: payload.sub, account, exp };
    },
  };
}

type PublicKey = Awaited<ReturnType<typeof importSPKI>>;

async function publicKey(pem: string): Promise<{ key: PublicKey; algorithms: string[] }> {
  for (const algorithms of [['EdDSA', 'Ed25519'], ['ES256']]) {
    try {
      return { key: await importSPKI(pem, algorithms[0]!), algorithms };
    } catch {
      // the next algorithm
    }
  }
  throw new ServeSettingsError('SEVSYNC_EMBED_PUBLIC_KEY: not an Ed25519 or P-256 public key');
}

function reason(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'the embed token has expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return 'the embed token is not for sevsync (claim "aud")';
    if (err.claim === 'nbf' || err.claim === 'iat') return 'the embed token is not valid yet';
    return `the embed token lacks or has a wrong claim "${err.claim}"`;
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'the embed token has a wrong signature';
  if (err instanceof errors.JOSEAlgNotAllowed)
    return 'the embed token is signed with an algorithm not allowed';
  return 'the embed token is malformed';
}
