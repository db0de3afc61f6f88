// The one rule for putting text secretwrap did not write (references, names, keys, paths, foreign
// error text) in front of a reader: characters that move the cursor, end a line, reorder text or
// are not valid Unicode are shown as escapes, so one record stays one line and reads as it is stored.

// C0 controls, DEL, C1 controls (a terminal takes 0x9b as CSI), the line/paragraph separators
// U+2028/9 (line breaks for JavaScript and some log viewers), the bidi embeddings, overrides and
// isolates plus the implicit marks (they can make a line display as something it does not say,
// "Trojan Source"), and lone surrogates (not encodable in UTF-8: they would turn into U+FFFD).
const UNSAFE =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/gu;

const NAMED: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function escapeOne(char: string): string {
  const named = NAMED[char];
  if (named !== undefined) return named;
  const code = char.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16)}`;
}

/** Every unsafe character as an escape (`\n`, `\x1b`, `\u202e`); everything else unchanged. */
export function escapeUnsafe(text: string): string {
  return text.replace(UNSAFE, escapeOne);
}

/** The same characters as JSON escapes, for text that is already JSON (still valid JSON after). */
export function escapeUnsafeJson(json: string): string {
  // JSON.stringify already escapes C0 and lone surrogates; the rest is legal raw JSON but unsafe.
  return json.replace(UNSAFE, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** The longest user-supplied text put into a message: a reference needs about this much. */
export const PRINTABLE_MAX_CHARS = 200;

/** User-supplied text inside a message: escaped, and cut to one short line. */
export function printable(text: string, maxChars: number = PRINTABLE_MAX_CHARS): string {
  const shown = text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
  return escapeUnsafe(shown);
}
