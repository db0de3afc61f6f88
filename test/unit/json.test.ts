// JSON secretwrap did not write is read with every key as written, whatever was parsed before it
// in the same process (V8's key cache, nodejs/node#63785), and exactly JSON.parse's language.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { selectField } from "../../src/field.ts";
import { parseJson } from "../../src/json.ts";

// Keys whose first character is written as an escape, as JSON.stringify or another writer
// (Python's ensure_ascii) puts them: the shape V8 can misread as a lone backslash.
const ESCAPED_FIRST = ['\\"', "\\n", "\\\\", "\\/", "\\u00e9", "\\ud800", "\\u0000", "\\t"];
const decode = (escaped: string): string => JSON.parse(`"${escaped}"`) as string;

/** Parses, natively, the same keys with a lone `\` key in each place: what poisons V8's cache. */
function poisonFor(value: unknown): void {
  if (Array.isArray(value)) {
    value.forEach(poisonFor);
    return;
  }
  if (value === null || typeof value !== "object") return;
  const keys = Object.keys(value);
  for (let i = 0; i <= keys.length; i++) {
    const before = keys.slice(0, i).map((k) => `${JSON.stringify(k)}:0`);
    JSON.parse(`{${[...before, '"\\\\":0'].join(",")}}`);
  }
  Object.values(value).forEach(poisonFor);
}

const anyKey = fc.oneof(
  fc.string({ unit: "binary", maxLength: 6 }),
  fc.constantFrom("\\", '"', "\n", "é", "__proto__", "constructor", "\ud800"),
);
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.string({ unit: "binary", maxLength: 8 }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(anyKey, tie("value"), { maxKeys: 5, noNullPrototype: true }),
  ),
})).value;

describe("parseJson: every key read as written", () => {
  it.each(ESCAPED_FIRST)("a key written %s after a `\\` key in the same place", (escaped) => {
    JSON.parse('{"user":"","\\\\":""}');
    const text = `{"user":"u","${escaped}":"v"}`;
    const read = parseJson(text) as Record<string, unknown>;
    expect(Object.keys(read)).toEqual(["user", decode(escaped)]);
    expect(read[decode(escaped)]).toBe("v");
  });

  it("any JSON value, after the poisoning parses of its own keys, reads back as written", () => {
    fc.assert(
      fc.property(jsonValue, (value) => {
        poisonFor(value);
        const text = JSON.stringify(value);
        expect(JSON.stringify(parseJson(text))).toBe(text);
      }),
      { numRuns: 1000 },
    );
  });

  it("accepts and refuses exactly what JSON.parse does", () => {
    const near = fc.oneof(
      fc.string({ unit: "binary", maxLength: 20 }),
      jsonValue.map((v) => JSON.stringify(v)),
      fc
        .tuple(jsonValue, fc.nat(), fc.constantFrom("", ",", "}", "]", "\\", '"', "/*x*/", "\n", "'"))
        .map(([v, at, insert]) => {
          const text = JSON.stringify(v);
          const i = at % (text.length + 1);
          return text.slice(0, i) + insert + text.slice(i);
        }),
    );
    fc.assert(
      fc.property(near, (text) => {
        // Only acceptance: JSON.parse's value is what is in doubt (the property above covers it).
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        if (valid) expect(() => parseJson(text)).not.toThrow();
        else expect(() => parseJson(text)).toThrow(SyntaxError);
      }),
      { numRuns: 2000 },
    );
  });

  it("refuses, as invalid, a document nested deeper than it can read (never half of it)", () => {
    const depth = 200_000;
    const text = `${"[".repeat(depth)}"\\n"${"]".repeat(depth)}`;
    let native = true;
    try {
      JSON.parse(text);
    } catch {
      native = false;
    }
    if (native) expect(() => parseJson(text)).toThrow(SyntaxError);
    const shallow = `${"[".repeat(50)}{"\\n":1}${"]".repeat(50)}`;
    expect(JSON.stringify(parseJson(shallow))).toBe(shallow);
  });

  it("keeps JSON.parse's object semantics: __proto__ is an own key, a repeated key keeps its place and takes the last value", () => {
    const read = parseJson('{"__proto__":{"x":1},"a":"1","\\u0062":2,"a":"3"}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(read)).toBe(Object.prototype);
    expect(Object.hasOwn(read, "__proto__")).toBe(true);
    expect(Object.keys(read)).toEqual(["__proto__", "a", "b"]);
    expect(read["a"]).toBe("3");
    expect(({} as Record<string, unknown>)["x"]).toBeUndefined();
  });

  it("a secret's #field is found by its key after any earlier parse (the field a user asked for, not another)", () => {
    for (const escaped of ESCAPED_FIRST) {
      JSON.parse('{"user":"","\\\\":"another secret"}');
      const fetched = { bytes: Buffer.from(`{"user":"u","${escaped}":"this"}`) };
      const key = decode(escaped);
      const pointer = `/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`;
      if (!key.startsWith("/")) expect(Buffer.from(selectField(fetched, key)).toString()).toBe("this");
      expect(Buffer.from(selectField(fetched, pointer)).toString()).toBe("this");
    }
  });
});
