// Text from sevDesk as PostgreSQL can store it. `text` and `jsonb` refuse NUL (\u0000) and lone UTF-16
// surrogates (they cannot be encoded as UTF-8); both are stripped, the rest of the value is kept. Values are
// bounded so that one pasted document in a name field cannot bloat a row or a page statement.

/** Longest text value stored from sevDesk (characters); longer values are cut. */
export const MAX_TEXT_LENGTH = 1000;

// NUL, and surrogates that are not part of a pair.
// eslint-disable-next-line no-control-regex -- NUL is exactly what PostgreSQL refuses
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Removes what PostgreSQL text/jsonb refuse and cuts to `max` characters (never inside a surrogate pair). */
export function storableText(value: string, max = MAX_TEXT_LENGTH): string {
  let v = value.replace(UNSTORABLE, '');
  if (v.length > max) {
    v = v.slice(0, max);
    // A pair cut in half leaves a lone high surrogate at the end.
    if (/[\uD800-\uDBFF]$/.test(v)) v = v.slice(0, -1);
  }
  return v;
}

// Nothing to strip, trim or cut: no NUL, no surrogate at all, no white space at either end.
// eslint-disable-next-line no-control-regex -- NUL is exactly what PostgreSQL refuses
const PLAIN = /^[^\s\u0000\uD800-\uDFFF](?:[^\u0000\uD800-\uDFFF]*[^\s\u0000\uD800-\uDFFF])?$/;

/** Storable, trimmed, empty -> null: the form of every optional CRM text field. */
export function cleanText(value: string | null | undefined, max = MAX_TEXT_LENGTH): string | null {
  if (value === null || value === undefined) return null;
  // Most values are already clean: one test instead of two replaces and two trims.
  if (value.length <= max && PLAIN.test(value)) return value;
  const v = storableText(storableText(value, Infinity).trim(), max).trimEnd();
  return v ? v : null;
}

/** A short, quoted excerpt of a value for a reason text (never the whole payload). */
export function quoteExcerpt(value: string, max = 60): string {
  const v = storableText(value);
  return JSON.stringify(v.length > max ? `${v.slice(0, max)}…` : v);
}
