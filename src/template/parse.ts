// Pure: template text → its parts, or every problem with its line and column. The language is small
// on purpose (no code, no loops, no environment or file access): literal text, and actions
//
//   {{ ref "ref+<scheme>://<locator>#field" | json }}   a declared secret, through filters
//   {{ "{{" }}                                          a string, as it is (how a literal {{ is written)
//
// An action is `{{`, an expression (`ref` and one reference in double quotes, or a string), any number
// of `| filter`, and `}}`. A `}}` outside an action is text (JSON and nginx files end blocks with it).
// Strings are in double quotes with the escapes \" \\ \n \t \r; anything else after a backslash, a
// control character or an unclosed quote is a problem. Every reference is parsed now by the one
// reference parser, so a template that parses has nothing left to fail but fetching and filtering.
//
// Nothing escapes this module: every problem, the reference parser's included, is returned, and after
// a problem in one action the parser goes on at the next `}}`, so one run names all of them.
import { parseRef, type Ref } from "../config/ref.ts";
import type { ErrorCode } from "../errors.ts";
import { SecretwrapError } from "../errors.ts";
import { printable, SHOWN_CHARS } from "../printable.ts";
import { isFilterName, type FilterName } from "./filters.ts";

export interface Position {
  /** 1-based; lines end at \n. */
  readonly line: number;
  /** 1-based, in characters (code points) from the start of the line. */
  readonly column: number;
}

export type Expression =
  { readonly kind: "literal"; readonly text: string } | { readonly kind: "ref"; readonly ref: Ref };

export type Part =
  | { readonly kind: "text"; readonly text: string }
  | {
      readonly kind: "action";
      readonly at: Position;
      readonly expression: Expression;
      readonly filters: readonly FilterName[];
    };

export interface Template {
  readonly parts: readonly Part[];
}

export interface TemplateProblem {
  readonly at: Position;
  readonly code: ErrorCode;
  readonly message: string;
  readonly hint?: string;
}

export type ParseResult = { readonly template: Template } | { readonly problems: readonly TemplateProblem[] };

const OPEN = "{{";
const CLOSE = "}}";
const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_]*/y;
const SPACE = /[ \t\r\n]*/y;
const ESCAPES: Readonly<Record<string, string>> = { '"': '"', "\\": "\\", n: "\n", t: "\t", r: "\r" };
const SYNTAX_HINT =
  'an action is {{ ref "ref+…" | filter }} or {{ "text" }}; filters: json, yaml, shell, url, base64, trim; a literal {{ is {{ "{{" }}';

/** A problem inside one action: the parser records it and resumes after the action's `}}`. */
class ActionProblem extends Error {
  readonly offset: number;
  readonly code: ErrorCode;
  readonly hint: string;

  constructor(
    offset: number,
    message: string,
    code: ErrorCode = "CONFIG_INVALID",
    hint: string = SYNTAX_HINT,
  ) {
    super(message);
    this.offset = offset;
    this.code = code;
    this.hint = hint;
  }
}

/** One template reports at most this many problems: a file that has more is not a template. */
export const MAX_PROBLEMS = 100;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/u;

export function parseTemplate(source: string): ParseResult {
  const positions = new Positions(source);
  const parts: Part[] = [];
  const problems: TemplateProblem[] = [];
  const record = (p: ActionProblem): void => {
    problems.push({ at: positions.at(p.offset), code: p.code, message: p.message, hint: p.hint });
  };
  const tooMany = (): boolean => {
    if (problems.length < MAX_PROBLEMS) return false;
    const at = problems.at(-1)?.at ?? { line: 1, column: 1 };
    problems.push({
      at,
      code: "CONFIG_INVALID",
      message: `more problems after this one are not shown (the first ${MAX_PROBLEMS} are)`,
    });
    return true;
  };
  // Text is written as UTF-8: a lone surrogate (possible in a YAML "\ud800" escape) has no encoding.
  const surrogate = LONE_SURROGATE.exec(source);
  if (surrogate !== null)
    record(new ActionProblem(surrogate.index, "the template holds a lone surrogate (not valid Unicode)"));
  let offset = 0;
  let text = "";
  while (offset < source.length) {
    const open = source.indexOf(OPEN, offset);
    if (open === -1) {
      text += source.slice(offset);
      break;
    }
    text += source.slice(offset, open);
    const scanned = scanAction(source, open + OPEN.length);
    if (scanned.kind === "unclosed") {
      record(new ActionProblem(open, "{{ is not closed: no }} after it"));
      break;
    }
    offset = scanned.end;
    if (scanned.kind === "problem") {
      record(scanned.problem);
      if (tooMany()) break;
      continue;
    }
    if (text !== "") parts.push({ kind: "text", text });
    text = "";
    parts.push({ kind: "action", at: positions.at(open), ...scanned.action });
  }
  if (text !== "") parts.push({ kind: "text", text });
  return problems.length > 0 ? { problems } : { template: { parts } };
}

type Scanned =
  | {
      readonly kind: "ok";
      readonly end: number;
      readonly action: Pick<Extract<Part, { kind: "action" }>, "expression" | "filters">;
    }
  | { readonly kind: "problem"; readonly end: number; readonly problem: ActionProblem }
  | { readonly kind: "unclosed" };

/** One action from just after its `{{`: its expression and filters, or its first problem. */
function scanAction(source: string, start: number): Scanned {
  const lexer = new Lexer(source, start);
  try {
    const expression = readExpression(lexer);
    const filters: FilterName[] = [];
    for (;;) {
      lexer.skipSpace();
      if (lexer.closes()) break;
      if (!lexer.take("|")) throw lexer.unexpected("| or }}");
      lexer.skipSpace();
      const nameAt = lexer.offset;
      const name = lexer.identifier();
      if (name === undefined) throw lexer.unexpected("a filter name after |");
      if (!isFilterName(name)) throw new ActionProblem(nameAt, `unknown filter "${shown(name)}"`);
      filters.push(name);
    }
    return { kind: "ok", end: lexer.offset + CLOSE.length, action: { expression, filters } };
  } catch (error) {
    if (!(error instanceof ActionProblem)) throw error;
    const end = closeAfter(source, error.offset);
    return end === undefined ? { kind: "unclosed" } : { kind: "problem", end, problem: error };
  }
}

function readExpression(lexer: Lexer): Expression {
  lexer.skipSpace();
  if (lexer.closes()) throw new ActionProblem(lexer.offset, "empty action: {{ }} holds nothing");
  if (lexer.peek() === '"') return { kind: "literal", text: lexer.string() };
  const nameAt = lexer.offset;
  const name = lexer.identifier();
  if (name === undefined) throw lexer.unexpected('ref or a "string"');
  if (name !== "ref")
    throw new ActionProblem(nameAt, `unknown function "${shown(name)}" (the only function is ref)`);
  lexer.skipSpace();
  const refAt = lexer.offset;
  if (lexer.peek() !== '"')
    throw new ActionProblem(refAt, 'ref takes one reference in double quotes: ref "ref+…"');
  const raw = lexer.string();
  try {
    return { kind: "ref", ref: parseRef(raw) };
  } catch (error) {
    if (!(error instanceof SecretwrapError)) throw error;
    throw new ActionProblem(refAt, error.message, error.code, error.hint);
  }
}

/** The offset just after the first `}}` from `offset` on, skipping strings that close on their line. */
function closeAfter(source: string, offset: number): number | undefined {
  const close = source.indexOf(CLOSE, offset);
  return close === -1 ? undefined : close + CLOSE.length;
}

class Lexer {
  readonly source: string;
  offset: number;

  constructor(source: string, offset: number) {
    this.source = source;
    this.offset = offset;
  }

  peek(): string | undefined {
    return this.source[this.offset];
  }

  skipSpace(): void {
    SPACE.lastIndex = this.offset;
    SPACE.exec(this.source);
    this.offset = SPACE.lastIndex;
  }

  closes(): boolean {
    if (this.offset >= this.source.length) throw new ActionProblem(this.offset, "unclosed");
    return this.source.startsWith(CLOSE, this.offset);
  }

  take(char: string): boolean {
    if (this.peek() !== char) return false;
    this.offset += 1;
    return true;
  }

  identifier(): string | undefined {
    IDENTIFIER.lastIndex = this.offset;
    const match = IDENTIFIER.exec(this.source);
    if (match === null) return undefined;
    this.offset = IDENTIFIER.lastIndex;
    return match[0];
  }

  /** A double-quoted string at the offset; its problems are the string's, at its opening quote. */
  string(): string {
    const quote = this.offset;
    let value = "";
    let i = quote + 1;
    for (;;) {
      const char = this.source[i];
      if (char === undefined || char === "\n")
        throw new ActionProblem(quote, 'a string is not closed on its line (a " is missing)');
      if (char === '"') break;
      const code = char.charCodeAt(0);
      if (code < 0x20 || code === 0x7f)
        throw new ActionProblem(i, "a control character in a string (write \\n, \\t or \\r)");
      if (char === "\\") {
        const escaped = ESCAPES[this.source[i + 1] ?? ""];
        if (escaped === undefined)
          throw new ActionProblem(i, 'an unknown escape in a string (only \\" \\\\ \\n \\t \\r)');
        value += escaped;
        i += 2;
        continue;
      }
      value += char;
      i += 1;
    }
    this.offset = i + 1;
    return value;
  }

  unexpected(expected: string): ActionProblem {
    if (this.offset >= this.source.length) return new ActionProblem(this.offset, "unclosed");
    const char = String.fromCodePoint(this.source.codePointAt(this.offset) as number);
    return new ActionProblem(this.offset, `expected ${expected}, found "${shown(char)}"`);
  }
}

/**
 * Offsets → line and column, with the line starts found once. Offsets come mostly in increasing order,
 * so a column is counted on from the last one asked for on the same line: a long one-line template with
 * many actions costs one pass, not one per action.
 */
class Positions {
  readonly #starts: number[] = [0];
  readonly #source: string;
  #last = { offset: 0, line: 0, column: 1 };

  constructor(source: string) {
    this.#source = source;
    for (let i = source.indexOf("\n"); i !== -1; i = source.indexOf("\n", i + 1)) this.#starts.push(i + 1);
  }

  at(offset: number): Position {
    let low = 0;
    let high = this.#starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((this.#starts[mid] as number) <= offset) low = mid;
      else high = mid - 1;
    }
    const last = this.#last;
    const from =
      last.line === low && last.offset <= offset ? last : { offset: this.#starts[low] as number, column: 1 };
    const column = from.column + countCodePoints(this.#source, from.offset, offset);
    this.#last = { offset, line: low, column };
    return { line: low + 1, column };
  }
}

/** Code points in source[from, to): a surrogate pair is one character. */
function countCodePoints(source: string, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; i++) {
    const code = source.charCodeAt(i);
    const pair =
      code >= 0xd800 && code <= 0xdbff && i + 1 < to && (source.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
    if (pair) i++;
    count++;
  }
  return count;
}

function shown(text: string): string {
  return printable(text, SHOWN_CHARS.name);
}
