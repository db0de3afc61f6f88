// Pure: a fetched secret + the reference's #field → the bytes a target receives. Errors name the
// reference, the field and (for KV maps) the key names, never a value.
import { SecretwrapError } from "./errors.ts";
import { parseJsonKeepingNumbers, type NumberTexts } from "./json.ts";
import { listed, printable as printableText, SHOWN_CHARS } from "./printable.ts";
import type { Fetched } from "./provider-api.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });

export function selectField(fetched: Fetched, field: string | undefined): Uint8Array {
  if (field === undefined && fetched.keyValueMap !== true) return fetched.bytes;
  const { document, numbers } = parseDocument(fetched.bytes, field);
  if (field === undefined) {
    const keys = isObject(document) ? Object.keys(document) : [];
    const only = keys.length === 1 && isObject(document) ? document[keys[0] as string] : undefined;
    if (only === undefined) {
      throw new SecretwrapError(
        "FIELD_MISSING",
        `the secret holds ${keys.length} keys (${keyList(keys)}); say which one with #<key>`,
        {
          hint: "append #<key> to the reference",
        },
      );
    }
    return encodeScalar(only, keys[0] as string, numbers);
  }
  // Field names are data: only the document's own keys count, never Object.prototype's
  // (`#constructor` or `#__proto__` on a secret without them is missing, not a function or "{}").
  const selected = field.startsWith("/")
    ? walkPointer(document, field)
    : isObject(document) && Object.hasOwn(document, field)
      ? document[field]
      : undefined;
  if (selected === undefined) {
    const keys = isObject(document) ? ` (keys: ${keyList(Object.keys(document))})` : "";
    throw new SecretwrapError("FIELD_MISSING", `field "${printable(field)}" is not in the secret${keys}`);
  }
  return encodeScalar(selected, field, numbers);
}

/**
 * The JSON object whose keys an expanded declaration delivers (expand.ts): the whole secret, or the
 * object at its #field (a key, or a JSON pointer #/a/b). Anything else — not JSON, a missing field,
 * an array, a string, a number — is a FIELD_MISSING failure that names the field, never the value.
 */
export function objectAt(
  fetched: Fetched,
  field: string | undefined,
): { object: Record<string, unknown>; numbers: NumberTexts } {
  const { document, numbers } = parseDocument(fetched.bytes, field, "expand: true");
  const selected =
    field === undefined
      ? document
      : field.startsWith("/")
        ? walkPointer(document, field)
        : isObject(document) && Object.hasOwn(document, field)
          ? document[field]
          : undefined;
  if (field !== undefined && selected === undefined) {
    const keys = isObject(document) ? ` (keys: ${keyList(Object.keys(document))})` : "";
    throw new SecretwrapError("FIELD_MISSING", `field "${printable(field)}" is not in the secret${keys}`);
  }
  if (!isObject(selected)) {
    const what = field === undefined ? "the secret" : `field "${printable(field)}"`;
    throw new SecretwrapError("FIELD_MISSING", `expand: true needs a JSON object, but ${what} is not one`, {
      hint: "store the secret as a JSON object of keys and values, or select one with #field",
    });
  }
  return { object: selected, numbers };
}

function parseDocument(
  bytes: Uint8Array,
  field: string | undefined,
  needs?: string,
): { document: unknown; numbers: NumberTexts } {
  try {
    // Numbers as written (README: "delivered as their JSON text"), never through a double.
    return parseJsonKeepingNumbers(decoder.decode(bytes));
  } catch {
    // Never quote the parser's message: it contains an excerpt of the value.
    throw new SecretwrapError(
      "FIELD_MISSING",
      `${needs ?? `#${printable(field ?? "")}`} needs a JSON object, but the secret is not valid JSON`,
      {
        hint: "remove #field to receive the whole value, or store the secret as a JSON object",
      },
    );
  }
}

/** RFC 6901. */
function walkPointer(document: unknown, pointer: string): unknown {
  let node: unknown = document;
  for (const raw of pointer.slice(1).split("/")) {
    const token = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(node) && /^(0|[1-9][0-9]*)$/.test(token)) node = node[Number(token)];
    else if (isObject(node) && Object.hasOwn(node, token)) node = node[token];
    else return undefined;
  }
  return node;
}

/** A selected value as a target receives it: text as is, numbers and booleans as text, the rest as JSON. */
export function encodeScalar(value: unknown, field: string, numbers: NumberTexts): Uint8Array {
  if (typeof value === "string") return Buffer.from(numbers.textOf(value) ?? value, "utf8");
  if (typeof value === "boolean") return Buffer.from(String(value), "utf8");
  if (value !== null && typeof value === "object")
    return Buffer.from(numbers.restore(serialize(value, field)), "utf8");
  throw new SecretwrapError(
    "FIELD_MISSING",
    `field "${printable(field)}" is in the secret, but its value is null`,
    { hint: "store a value in that field, or select another one" },
  );
}

/** An object or array field is passed on as JSON; one nested too deep for the stack is refused. */
function serialize(value: object, field: string): string {
  try {
    return JSON.stringify(value);
  } catch {
    // Only a RangeError (stack) can happen for parsed JSON; its message quotes nothing, but say ours.
    throw new SecretwrapError(
      "VALUE_UNUSABLE",
      `field "${printable(field)}" holds JSON nested too deeply to pass on`,
      { hint: "select a value inside it with a JSON pointer (#/a/b), or store a flatter object" },
    );
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A secret's keys in a message: the first few (a secret may hold 100,000). */
function keyList(keys: readonly string[]): string {
  return listed(keys.map(printable), 20, ", ", "keys");
}

/** A key or field name in a message: the one rule of printable.ts, at a key's length. */
function printable(text: string): string {
  return printableText(text, SHOWN_CHARS.key);
}
