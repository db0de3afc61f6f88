// The one way secretwrap reads JSON it did not write itself: secret values (#field), provider
// replies that carry them, the manifest and the hand-over argument.
//
// Why not JSON.parse alone: V8 (Node 24 and later, nodejs/node#63785) can decode an object key
// that starts with an escape (`"\""`, `"\n"`, `"\u00e9"`) as a lone backslash once any earlier
// parse in the process produced a key `\` in the same place. A secret's field would then be
// missing or, worse, another field's value. JSON.parse still decides what is valid JSON (so the
// accepted language and its errors are exactly JSON.parse's); only a text with a backslash in it
// is then built again by ValidJsonReader, which hands V8 one string or number token at a time and
// sets each key itself, so no key goes through V8's object-key path.
// (Not a JSON library: the ones that do not call JSON.parse ship as CommonJS/UMD with extensionless
// ESM imports, which neither the bundle nor Node running src/ directly can both load.)

/** JSON.parse's result and errors, with every key read as written. */
export function parseJson(text: string): unknown {
  const value: unknown = JSON.parse(text);
  if (!text.includes("\\")) return value;
  try {
    return new ValidJsonReader(text).document();
  } catch (error) {
    // Nesting deeper than this reader's stack: refused like invalid JSON, never half read.
    if (error instanceof RangeError)
      throw new SyntaxError("JSON text nested too deeply to read", { cause: error });
    throw error;
  }
}

/** Where parseJsonKeepingNumbers put each number of the text, and its text as written. */
export interface NumberTexts {
  /** The number a string of the document stands for, as written; undefined for any other string. */
  textOf(value: string): string | undefined;
  /** JSON.stringify's text of (part of) the document, with each such string its number again. */
  restore(json: string): string;
}

const NUMBER_START = new Set([..."-0123456789"]);
const NUMBER_PART = new Set([..."-+0123456789.eE"]);

/**
 * parseJson, with each number read as written (`12345678901234567890`, `1.0`, `1e400`) instead of as a
 * double that rounds, rewrites or overflows it: a secret's digits are data. Every number token is
 * replaced by a string made of a fresh random nonce and its index before parsing (a linear scan, so
 * nesting as deep as JSON.parse reads stays readable), and `numbers` turns those strings back.
 */
export function parseJsonKeepingNumbers(text: string): { document: unknown; numbers: NumberTexts } {
  // Validity and errors exactly as parseJson's; the rewritten text below is then valid too.
  parseJson(text);
  const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("hex");
  const texts: string[] = [];
  let rewritten = "";
  let copied = 0;
  for (let at = 0; at < text.length;) {
    const c = text[at] ?? "";
    if (c === '"') {
      at++;
      while (text[at] !== '"') at += text[at] === "\\" ? 2 : 1;
      at++;
    } else if (NUMBER_START.has(c)) {
      const start = at;
      while (NUMBER_PART.has(text[at] ?? "")) at++;
      rewritten += `${text.slice(copied, start)}"${nonce}${texts.length}"`;
      texts.push(text.slice(start, at));
      copied = at;
    } else at++;
  }
  const document = parseJson(rewritten + text.slice(copied));
  const marker = new RegExp(`"${nonce}([0-9]+)"`, "g");
  return {
    document,
    numbers: {
      textOf: (value) => (value.startsWith(nonce) ? texts[Number(value.slice(nonce.length))] : undefined),
      restore: (json) => json.replace(marker, (_, index: string) => texts[Number(index)] ?? ""),
    },
  };
}

const WHITESPACE = new Set([" ", "\t", "\n", "\r"]);
const VALUE_END = new Set([",", "]", "}", " ", "\t", "\n", "\r"]);

/** Reads a text that JSON.parse has accepted, so it has no error paths of its own. */
class ValidJsonReader {
  readonly text: string;
  #at = 0;

  constructor(text: string) {
    this.text = text;
  }

  document(): unknown {
    return this.#value();
  }

  #skipWhitespace(): void {
    while (WHITESPACE.has(this.text[this.#at] ?? "")) this.#at++;
  }

  #value(): unknown {
    this.#skipWhitespace();
    switch (this.text[this.#at]) {
      case "{":
        return this.#object();
      case "[":
        return this.#array();
      case '"':
        return this.#string();
      default: {
        // A number, true, false or null: JSON.parse reads the token as it would in place.
        const start = this.#at;
        while (this.#at < this.text.length && !VALUE_END.has(this.text[this.#at] ?? "")) this.#at++;
        return JSON.parse(this.text.slice(start, this.#at)) as unknown;
      }
    }
  }

  #string(): string {
    const start = this.#at++;
    while (this.text[this.#at] !== '"') this.#at += this.text[this.#at] === "\\" ? 2 : 1;
    this.#at++;
    // A string token alone is not an object key: V8 decodes it correctly.
    return JSON.parse(this.text.slice(start, this.#at)) as string;
  }

  #object(): Record<string, unknown> {
    const object: Record<string, unknown> = {};
    this.#at++;
    this.#skipWhitespace();
    if (this.text[this.#at] === "}") {
      this.#at++;
      return object;
    }
    for (;;) {
      this.#skipWhitespace();
      const key = this.#string();
      this.#skipWhitespace();
      this.#at++; // the colon
      // Like JSON.parse: an own data property even for "__proto__"; a repeated key keeps its first
      // position and takes the last value.
      Object.defineProperty(object, key, {
        value: this.#value(),
        writable: true,
        enumerable: true,
        configurable: true,
      });
      this.#skipWhitespace();
      if (this.text[this.#at++] === "}") return object;
    }
  }

  #array(): unknown[] {
    const array: unknown[] = [];
    this.#at++;
    this.#skipWhitespace();
    if (this.text[this.#at] === "]") {
      this.#at++;
      return array;
    }
    for (;;) {
      array.push(this.#value());
      this.#skipWhitespace();
      if (this.text[this.#at++] === "]") return array;
    }
  }
}
