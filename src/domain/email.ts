import { reasonText } from './reasons';
import { quoteExcerpt, storableText } from './text';

// E-mail values as people type them into sevDesk: "a@x.de; b@y.de", "mailto:a@x.de", "Anna <a@x.de>",
// zero-width characters and non-breaking spaces from copy and paste, quotes around the address. The match
// key is the first usable address, trimmed and lower-cased. A value with no usable address is reported (the
// invoice stays unassigned with that reason); it never becomes a customer key.

export type ParsedEmail = { email: string; issue: null } | { email: null; issue: string | null };

// Zero-width and invisible formatting characters (ZWSP, ZWNJ, ZWJ, word joiner, BOM, soft hyphen, ...).
const INVISIBLE = /[\u200B-\u200F\u2060-\u2064\uFEFF\u00AD\u180E\u202A-\u202E]/g;
// Non-breaking and other Unicode spaces, tabs, line breaks.
const SPACES = /[\s\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+/g;
const SEPARATORS = /[;,]+/;
const WRAPPERS = /^["'`«»„“”‚‘’<([{]+|["'`«»„“”‚‘’>)\]}.:;]+$/g;
// Practical, not RFC 5322: dot-atom local part, a domain with at least one dot and a letter TLD (IDN allowed).
const LOCAL = /^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+(\.[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+)*$/u;
const DOMAIN = /^([\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?\.)+[\p{L}]{2,}$/u;
const MAX_EMAIL_LENGTH = 254;

/** The address itself if `candidate` (one piece of a value) is usable, else null. */
function address(candidate: string): string | null {
  let v = candidate.trim();
  const angle = /<([^<>]*)>/.exec(v);
  if (angle?.[1] !== undefined) v = angle[1];
  for (let i = 0; i < 3; i++) {
    v = v.replace(WRAPPERS, '').trim();
    if (/^mailto:/i.test(v)) v = v.slice('mailto:'.length).split('?')[0] ?? '';
  }
  for (const token of v.split(' ')) {
    if (!token.includes('@')) continue;
    const email = token.replace(WRAPPERS, '').toLowerCase();
    if (email.length > MAX_EMAIL_LENGTH) continue;
    const at = email.lastIndexOf('@');
    const local = email.slice(0, at);
    const domain = email.slice(at + 1);
    if (at > 0 && local.length <= 64 && LOCAL.test(local) && DOMAIN.test(domain)) return email;
  }
  return null;
}

/** The first usable address in a typed value; a blank value is no address and no issue. */
export function parseEmail(value: string | null | undefined): ParsedEmail {
  if (value === null || value === undefined) return { email: null, issue: null };
  const cleaned = storableText(value, Infinity).replace(INVISIBLE, '').replace(SPACES, ' ').trim();
  if (!cleaned) return { email: null, issue: null };
  for (const part of cleaned.split(SEPARATORS)) {
    const email = address(part);
    if (email) return { email, issue: null };
  }
  return { email: null, issue: reasonText({ code: 'unusable-email', excerpt: quoteExcerpt(cleaned) }) };
}

/** The match key of an address typed anywhere (sevDesk or OneCockpit), or null if none is usable. */
export function emailKey(value: string | null | undefined): string | null {
  return parseEmail(value).email;
}
