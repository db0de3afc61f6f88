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

/**
 * How much of a user-supplied text a message shows, by what the text is: enough to recognise it,
 * and shorter where one message may hold several.
 */
export const SHOWN_CHARS = {
  /** A reference needs about this much. */
  reference: 200,
  /** A variable name, file name or mode: a message may name two (a clash). */
  name: 100,
  /** A key or #field of a secret: a message may list all of a secret's keys. */
  key: 80,
  /** An option's value in a usage error, quoted: the option's name already says what it is. */
  optionValue: 40,
} as const;

/** User-supplied text inside a message: escaped, and cut to one short line. */
export function printable(text: string, maxChars: number = SHOWN_CHARS.reference): string {
  return escapeUnsafe(cut(text, maxChars));
}

/**
 * An option's value in a usage error, cut short and quoted as JSON (the quotes show where it starts
 * and ends; the logger escapes what JSON leaves, as for every message).
 */
export function quotedOptionValue(text: string): string {
  return JSON.stringify(cut(text, SHOWN_CHARS.optionValue));
}

/**
 * A list in a message (keys, problems): at most `max` items, then how many more. A secret may have
 * 100,000 keys, and a message must still be one line a reader can take in.
 */
export function listed(items: readonly string[], max: number, separator: string, what: string): string {
  if (items.length <= max) return items.join(separator);
  return `${items.slice(0, max).join(separator)} (and ${items.length - max} more ${what})`;
}

function cut(text: string, maxChars: number): string {
  return text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
}
