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
