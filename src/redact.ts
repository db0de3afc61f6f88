// The second line of defence: every record secretwrap prints passes through mask(), which replaces
// every value and credential it was told about. The first line is never formatting a value at all.
//
// Masking must not reveal a value by inference (docs/security.md#redaction): a mask where the reader
// knows what the text says ("[REDACTED]: error", "ref+[REDACTED]://") tells them the value. So a
// value is masked only where the reader could not know the text anyway: never inside words that are
// known (secretwrap's own vocabulary, and the names and references of the record), and values too
// short or too plain to hide are not masks at all.
import { VOCABULARY_WORDS } from "./vocabulary.ts";

export const MASK = "[REDACTED]";
// Shorter strings would mask ordinary words in messages; a 1-3 character secret cannot be hidden anyway.
const MIN_LENGTH = 4;
// A value with a letter or digit somewhere; one without (",,,,", "    ") would mask layout.
const HAS_WORD_CHAR = /[A-Za-z0-9]/;
// A value made of words and these separators can be spelled by known words; any other character
// (quote, @, !, …) makes it something secretwrap's text does not contain, so it is always masked.
const WORD_SHAPED = /^[A-Za-z0-9 \-_./:+]*$/;
const WORD_CHAR = /[A-Za-z0-9]/;

/** Is this lower-case word text the reader already knows? */
export type KnownWords = (word: string) => boolean;

const vocabulary = new Set(VOCABULARY_WORDS.split(" "));
export const inVocabulary: KnownWords = (word) => vocabulary.has(word);

/** Known words: secretwrap's vocabulary plus the words of these texts (names, references). */
export function knownWordsOf(texts: readonly string[]): KnownWords {
  const extra = new Set(texts.flatMap((t) => t.toLowerCase().match(/[a-z0-9]+/g) ?? []));
  return (word) => vocabulary.has(word) || extra.has(word);
}

export class Redactor {
  readonly #needles = new Set<string>();

  add(value: string | Uint8Array): void {
    const text = typeof value === "string" ? value : Buffer.from(value).toString("utf8");
    this.#addText(text);
    // Multi-line values (PEM keys) can surface one line at a time, e.g. inside a parser message.
    for (const line of text.split(/\r?\n/)) if (line.length >= 8) this.#addText(line);
  }

  #addText(text: string): void {
    if (text.length < MIN_LENGTH || !HAS_WORD_CHAR.test(text)) return;
    this.#needles.add(text);
    // A value can also appear JSON-escaped (a provider error body echoed into a message).
    const escaped = JSON.stringify(text).slice(1, -1);
    if (escaped !== text) this.#needles.add(escaped);
  }

  /** `text` with every known value masked, except where it lies within known words. */
  mask(text: string, known: KnownWords = inVocabulary): string {
    if (this.#needles.size === 0) return text;
    // All occurrences are found in the original text, then masked at once: a value that is part
    // of another, or of the mask itself, can neither survive nor mangle a mask already placed.
    const spans: [number, number][] = [];
    for (const needle of this.#needles) {
      for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + 1)) {
        const end = at + needle.length;
        if (!withinKnownWords(text, at, end, needle, known)) spans.push([at, end]);
      }
    }
    if (spans.length === 0) return text;
    spans.sort((a, b) => a[0] - b[0]);
    let out = "";
    let done = 0;
    let maskedTo = -1;
    for (const [start, end] of spans) {
      // Overlapping or touching occurrences become one mask.
      if (start > maskedTo) out += text.slice(done, start) + MASK;
      maskedTo = Math.max(maskedTo, end);
      done = maskedTo;
    }
    return out + text.slice(done);
  }
}

// The occurrence, widened to whole words, consists of known words only: the reader could have
// written that text without knowing the value, so masking it would only point at the value.
function withinKnownWords(
  text: string,
  start: number,
  end: number,
  needle: string,
  known: KnownWords,
): boolean {
  if (!WORD_SHAPED.test(needle)) return false;
  let from = start;
  let to = end;
  while (from > 0 && WORD_CHAR.test(text[from - 1] ?? "")) from--;
  while (to < text.length && WORD_CHAR.test(text[to] ?? "")) to++;
  const words =
    text
      .slice(from, to)
      .toLowerCase()
      .match(/[a-z0-9]+/g) ?? [];
  return words.length > 0 && words.every(known);
}
