/**
 * What livecalls accepts from outside, and how it bounds it. Checked at the door (ingest adapters, route
 * schemas), so nothing past it has to wonder.
 *
 * Times: epoch ms from 2000-01-01 to 2100-01-01. Far wider than any clock error, far inside what a JS `Date`
 * can hold (±8.64e15 ms; beyond it `toISOString` throws) and what SQLite and PostgreSQL integers hold.
 *
 * Text: PostgreSQL `text` and `jsonb` cannot hold NUL, and a lone UTF-16 surrogate has no UTF-8 form (jsonb
 * refuses its escape). Such text is refused where the sender can correct it (the API, agent events) and
 * cleaned where it cannot (a LiveKit webhook is signed and retried as is).
 */

export const MIN_TIME_MS = 946_684_800_000;
export const MAX_TIME_MS = 4_102_444_800_000;

export function inTimeRange(ms: number): boolean {
  return Number.isSafeInteger(ms) && ms >= MIN_TIME_MS && ms <= MAX_TIME_MS;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

/** True when the text can be stored anywhere livecalls stores text (see above). */
export function isStorableText(text: string): boolean {
  return !text.includes('\u0000') && !LONE_SURROGATE.test(text);
}

/** The text without NUL, lone surrogates as U+FFFD, cut to at most `max` UTF-16 units (never inside a pair). */
export function cleanText(text: string, max = Infinity): string {
  let out = isStorableText(text) ? text : text.replaceAll('\u0000', '').replace(LONE_SURROGATES, '\uFFFD');
  if (out.length > max) {
    out = out.slice(0, max);
    if (/[\uD800-\uDBFF]$/.test(out)) out = out.slice(0, -1);
  }
  return out;
}

/**
 * Nesting depth of a JSON text (objects and arrays), counted without parsing it, stopping past `limit`.
 * Parsing a deep document is fine; serialising it again is recursive and overflows the stack.
 */
export function jsonDepthExceeds(json: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}
