// Config text → plain data, or problems with a position. YAML 1.2 is a superset of JSON, so one parser
// serves both and always gives line and column.
//
// The parser's boundary is here: nothing it throws gets past. Two failures surface only when the
// document is turned into data (yaml's toJS throws a ReferenceError): an alias whose anchor does not
// exist, and an alias bomb ("billion laughs") past yaml's maxAliasCount. Both are configuration errors.
// The parser's own messages quote the offending line, which could hold a secret: only position and
// kind are kept.
//
// Keys are data (R4): a mapping key is the text the user wrote. YAML 1.2's core schema would read
// `TRUE:` as the boolean true, `.nan:` as NaN, `0x1A:` as 26 and `~:` as null, and hand them on as the
// names "true", "NaN", "26", "null". With stringKeys every key anywhere in the document is its source
// string; values keep their types (`optional: true` is still a boolean). A key that cannot be a
// string (a list, a map, an alias, an explicit non-string tag such as `!!int 7:`) is refused.
import { commonJs } from "../interop.ts";

export interface YamlProblem {
  /** "line:column", or "1:1" when the parser gives no position. */
  readonly where: string;
  readonly message: string;
}

export type YamlResult = { readonly data: unknown } | { readonly problems: readonly YamlProblem[] };

/** yaml's default: an anchor may be expanded at most this many times before it is called a bomb. */
export const MAX_ALIAS_COUNT = 100;

export async function parseYamlData(text: string): Promise<YamlResult> {
  const { parseDocument } = commonJs(await import("yaml"));
  let document: ReturnType<typeof parseDocument>;
  try {
    document = parseDocument(text, { prettyErrors: false, uniqueKeys: true, stringKeys: true });
  } catch {
    return { problems: [{ where: "1:1", message: "not valid YAML or JSON (the parser gave up)" }] };
  }
  if (document.errors.length > 0) {
    return {
      problems: document.errors.map((error) => ({
        where: lineAndColumn(text, error.pos[0]),
        message:
          error.code === "NON_STRING_KEY"
            ? "a mapping key must be plain text (not a list, a map, an alias or a !!tag other than !!str)"
            : `not valid YAML or JSON (${error.code})`,
      })),
    };
  }
  try {
    return { data: document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown };
  } catch (error) {
    return { problems: [{ where: "1:1", message: aliasProblem(error) }] };
  }
}

function aliasProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : "";
  if (message.startsWith("Unresolved alias"))
    return "an alias (*name) refers to an anchor (&name) that is not defined before it";
  if (message.startsWith("Excessive alias count"))
    return `aliases expand to too much data (more than ${MAX_ALIAS_COUNT} uses of one anchor): not accepted`;
  return "the document cannot be turned into data (anchors and aliases?)";
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return `${line}:${offset - before.lastIndexOf("\n")}`;
}
