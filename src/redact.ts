// The second line of defence: every line secretwrap prints passes through mask(), which replaces every
// value and credential it was told about. The first line is never formatting a value at all.

const MASK = "[REDACTED]";
// Shorter strings would mask ordinary words in messages; a 1-3 character secret cannot be hidden anyway.
const MIN_LENGTH = 4;

export class Redactor {
  readonly #needles = new Set<string>();

  add(value: string | Uint8Array): void {
    const text = typeof value === "string" ? value : Buffer.from(value).toString("utf8");
    this.#addText(text);
    // Multi-line values (PEM keys) can surface one line at a time, e.g. inside a parser message.
    for (const line of text.split(/\r?\n/)) if (line.length >= 8) this.#addText(line);
  }

  #addText(text: string): void {
    if (text.length < MIN_LENGTH) return;
    this.#needles.add(text);
    // A value can also appear JSON-escaped (a provider error body echoed into a message).
    const escaped = JSON.stringify(text).slice(1, -1);
    if (escaped !== text) this.#needles.add(escaped);
  }

  mask(text: string): string {
    if (this.#needles.size === 0) return text;
    let out = text;
    // Longest first, so a value that contains another is masked whole.
    for (const needle of [...this.#needles].sort((a, b) => b.length - a.length)) {
      if (out.includes(needle)) out = out.split(needle).join(MASK);
    }
    return out;
  }
}
