// The one way secretwrap reads JSON it did not write itself: secret values (#field), provider
// replies that carry them, the manifest and the hand-over argument.
//
// Why not JSON.parse alone: V8 (Node 24 and later, nodejs/node#63785) can decode an object key
// that starts with an escape (`"\""`, `"\n"`, `"\u00e9"`) as a lone backslash once any earlier
// parse in the process produced a key `\` in the same place. A secret's field would then be
// missing or, worse, another field's value. JSON.parse still decides what is valid JSON (so the
// accepted language and its errors are exactly JSON.parse's); only a text with a backslash in it
// is then built from jsonc-parser's tree, which never goes through V8's key cache.
// (Its ESM build: the UMD one that "main" names requires its parts at run time, which a bundle cannot.)
import { parseTree, type Node } from "jsonc-parser/lib/esm/main.js";

/** JSON.parse's result and errors, with every key read as written. */
export function parseJson(text: string): unknown {
  const value: unknown = JSON.parse(text);
  if (!text.includes("\\")) return value;
  const tree = parseTree(text, [], { disallowComments: true, allowTrailingComma: false });
  if (tree === undefined) throw new SyntaxError("JSON text could not be read");
  return valueOf(tree);
}

function valueOf(node: Node): unknown {
  switch (node.type) {
    case "object": {
      const object: Record<string, unknown> = {};
      for (const property of node.children ?? []) {
        const [key, child] = property.children ?? [];
        if (key === undefined || child === undefined) throw new SyntaxError("JSON property without a value");
        // Like JSON.parse: an own data property even for "__proto__"; a repeated key keeps its
        // first position and takes the last value.
        Object.defineProperty(object, String(key.value), {
          value: valueOf(child),
          writable: true,
          enumerable: true,
          configurable: true,
        });
      }
      return object;
    }
    case "array":
      return (node.children ?? []).map(valueOf);
    default:
      return node.value as unknown;
  }
}
