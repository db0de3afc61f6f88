// Pure: dotenv syntax → ordered entries with line numbers. Written by hand because the common parsers
// skip lines they do not understand, and a silently skipped line is a missing secret.
import { parsePattern } from "../expand-name.ts";
import { NAME_PATTERN } from "../plan.ts";

export interface EnvFileEntry {
  readonly name: string;
  readonly value: string;
  readonly line: number;
}

export interface EnvFileProblem {
  readonly line: number;
  readonly message: string;
}

const ESCAPES: Readonly<Record<string, string>> = { n: "\n", r: "\r", t: "\t", "\\": "\\", '"': '"', $: "$" };

export function parseEnvFile(text: string): { entries: EnvFileEntry[]; problems: EnvFileProblem[] } {
  const entries: EnvFileEntry[] = [];
  const problems: EnvFileProblem[] = [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const lineNumber = index + 1;
    const line = (lines[index] as string).trim();
    if (line === "" || line.startsWith("#")) continue;
    const body = line.startsWith("export ") ? line.slice(7).trimStart() : line;
    const eq = body.indexOf("=");
    if (eq === -1) {
      problems.push({ line: lineNumber, message: "expected NAME=value" });
      continue;
    }
    const name = body.slice(0, eq).trim();
    // `DB_*` / `DB_*_FILE`: every key of a secret (its prefix is checked with the declaration's rules).
    if (!NAME_PATTERN.test(name) && parsePattern(name) === undefined) {
      problems.push({ line: lineNumber, message: "the name before = is not a valid variable name" });
      continue;
    }
    const rest = body.slice(eq + 1).trimStart();
    const quote = rest[0];
    if (quote === '"' || quote === "'") {
      // A quoted value may continue over the following lines until its closing quote. Each line is
      // scanned once and the pieces joined at the end: re-scanning (or indexing a string grown by +=)
      // from the start made an unclosed quote at the top of a large file cost one pass per line.
      const pieces = [rest.slice(1)];
      let end = closingQuote(pieces[0] as string, quote);
      while (end === -1 && index + 1 < lines.length) {
        index++;
        const next = lines[index] as string;
        pieces.push(next);
        end = closingQuote(next, quote);
        if (end !== -1) end += offsetOfLast(pieces);
      }
      const raw = pieces.join("\n");
      if (end === -1) {
        problems.push({
          line: lineNumber,
          message: `the ${quote === '"' ? "double" : "single"} quote is never closed`,
        });
        continue;
      }
      const after = raw.slice(end + 1).trim();
      if (after !== "" && !after.startsWith("#")) {
        problems.push({ line: lineNumber, message: "unexpected text after the closing quote" });
        continue;
      }
      const inner = raw.slice(0, end);
      entries.push({ name, value: quote === '"' ? unescape(inner) : inner, line: lineNumber });
      continue;
    }
    const comment = rest.search(/\s#/);
    entries.push({
      name,
      value: (comment === -1 ? rest : rest.slice(0, comment)).trimEnd(),
      line: lineNumber,
    });
  }
  return { entries, problems };
}

/**
 * The index of the closing quote in one line, or -1. A backslash at the end of a line escapes the
 * newline that joins it to the next, so the next line is scanned from its start like any other.
 */
function closingQuote(text: string, quote: string): number {
  for (let i = 0; i < text.length; i++) {
    if (quote === '"' && text[i] === "\\") {
      i++;
      continue;
    }
    if (text[i] === quote) return i;
  }
  return -1;
}

/** Where the last piece starts in pieces.join("\n"). */
function offsetOfLast(pieces: readonly string[]): number {
  let offset = 0;
  for (let i = 0; i < pieces.length - 1; i++) offset += (pieces[i] as string).length + 1;
  return offset;
}

function unescape(text: string): string {
  return text.replace(/\\(.)/gs, (whole, char: string) => ESCAPES[char] ?? whole);
}
