/**
 * The text of error_description. RFC 6749 §5.2 (and §4.1.2.1, RFC 6750 §3):
 * error_description = 1*( %x20-21 / %x23-5B / %x5D-7E ) — printable ASCII without `"` and `\`.
 * Every protocol error passes its description through `toErrorDescription` (in OAuthError's
 * constructor), so no way of rendering it (JSON, redirect query, WWW-Authenticate, HTML page)
 * can carry anything else. Input quoted in a message goes through `quoteInput` first.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.2
 */

/** Code points outside RFC 6749 §5.2's error_description set (u flag: one `?` per code point). */
const OUTSIDE_DESCRIPTION_SET = /[^\x20\x21\x23-\x5B\x5D-\x7E]/gu;

/** Longest description sent: messages are one sentence; anything longer is cut. */
export const MAX_ERROR_DESCRIPTION_LENGTH = 512;

/** Longest piece of input quoted in a description (a grant_type, a scope token, a name…). */
export const MAX_QUOTED_INPUT_LENGTH = 40;
/** Longest URI quoted in a description (an RFC 8707 resource, a path): enough to recognise it. */
export const MAX_QUOTED_URI_LENGTH = 100;

/**
 * What may appear of the caller's input: letters, digits and the URI punctuation that carries
 * no markup or quoting (`<>&"'\`{}|^`, spaces, controls and non-ASCII are replaced).
 */
const OUTSIDE_QUOTABLE_SET = /[^A-Za-z0-9\-._~:/?#[\]@!$()*+,;=%]/gu;

const REPLACEMENT = '?';
const CUT = '...';

/** RFC 6749 §5.2: every character outside the allowed set becomes `?`; cut at the maximum length. */
export function toErrorDescription(text: string): string {
  const safe = text.replace(OUTSIDE_DESCRIPTION_SET, REPLACEMENT);
  return safe.length > MAX_ERROR_DESCRIPTION_LENGTH ? safe.slice(0, MAX_ERROR_DESCRIPTION_LENGTH - CUT.length) + CUT : safe;
}

/**
 * A piece of the caller's input, as it may be quoted in an error description: its first
 * `maxLength` characters, anything but plain URI characters replaced by `?`,
 * and `...` when it was cut.
 */
export function quoteInput(value: string, maxLength = MAX_QUOTED_INPUT_LENGTH): string {
  const head = value.slice(0, maxLength).replace(OUTSIDE_QUOTABLE_SET, REPLACEMENT);
  return value.length > maxLength ? head + CUT : head;
}
