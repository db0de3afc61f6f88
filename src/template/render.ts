// Pure: a parsed template and the value of each of its references → the file's bytes. Text is written
// as UTF-8; a reference's value is inserted as the bytes it is (no filter) or as its filters make it,
// left to right. A value a filter cannot carry fails the whole render with VALUE_UNUSABLE, naming the
// template, the position, the reference and the filter: never the value.
import { describeRef, type Ref } from "../config/ref.ts";
import { SecretwrapError } from "../errors.ts";
import { applyFilter } from "./filters.ts";
import type { Template } from "./parse.ts";

export interface RenderInput {
  readonly template: Template;
  /** How the template is called in messages: its target file name. */
  readonly name: string;
  /** The selected value (#field applied) of a reference the template uses. */
  readonly valueOf: (ref: Ref) => Uint8Array;
  /** Told each value as it is inserted (after its filters), so the redactor knows that form too. */
  readonly inserted?: (bytes: Uint8Array) => void;
}

export function renderTemplate(input: RenderInput): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (const part of input.template.parts) {
    if (part.kind === "text") {
      chunks.push(Buffer.from(part.text));
      continue;
    }
    const { expression, filters, at } = part;
    let bytes: Uint8Array =
      expression.kind === "literal" ? Buffer.from(expression.text) : input.valueOf(expression.ref);
    for (const filter of filters) {
      const filtered = applyFilter(filter, bytes);
      if ("refused" in filtered) {
        const what =
          expression.kind === "ref" ? `the value of ${describeRef(expression.ref.raw)}` : "the string";
        throw new SecretwrapError(
          "VALUE_UNUSABLE",
          `template ${input.name} line ${at.line}, column ${at.column}: ${what} ${filtered.refused}; the ${filter} filter cannot carry it`,
          {
            hint: "use | base64 for a binary value, or fix the secret",
            ...(expression.kind === "ref" ? { subject: { ref: describeRef(expression.ref.raw) } } : {}),
          },
        );
      }
      bytes = filtered;
    }
    if (expression.kind === "ref") input.inserted?.(bytes);
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

/** The references a template uses, each once, in the order they first appear. */
export function referencesOf(template: Template): Ref[] {
  const seen = new Set<string>();
  const refs: Ref[] = [];
  for (const part of template.parts) {
    if (part.kind !== "action" || part.expression.kind !== "ref") continue;
    if (seen.has(part.expression.ref.raw)) continue;
    seen.add(part.expression.ref.raw);
    refs.push(part.expression.ref);
  }
  return refs;
}
