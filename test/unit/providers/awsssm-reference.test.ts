// The awsssm provider's pure parts over their whole input class: which locators are parameter paths
// (reference.ts), and vals' prefix form's document (tree.ts) for any set of parameter names, in any
// order SSM lists them, with names that are JavaScript's own keys (__proto__, constructor) as data.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { selectField } from "../../../src/field.ts";
import { checkReference, parameterName } from "../../../providers/awsssm/reference.ts";
import { documentOf } from "../../../providers/awsssm/tree.ts";

const SEGMENT_CHARS = "abcXYZ019_.-".split("");
const segment = fc.oneof(
  fc.array(fc.constantFrom(...SEGMENT_CHARS), { minLength: 1, maxLength: 6 }).map((c) => c.join("")),
  fc.constantFrom("__proto__", "constructor", "toString", "hasOwnProperty"),
);
const relative = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join("/"));
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString("utf8");
/** The document as the core receives it (JSON bytes), and one field of it as a target would get it. */
const fieldOf = (document: object, pointer: string): string =>
  text(selectField({ bytes: Buffer.from(JSON.stringify(document)), keyValueMap: true }, pointer));
const pointerOf = (rest: string): string => `/${rest.replace(/~/g, "~0")}`;

describe("awsssm references", () => {
  it("every path of 1–15 names of A-Z a-z 0-9 _ . - is a parameter, with or without its leading /", () => {
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 15 }), fc.boolean(), (segments, slash) => {
        const locator = `${slash ? "/" : ""}${segments.join("/")}`;
        expect(checkReference(locator, {}, undefined)).toBeUndefined();
        expect(parameterName(locator)).toBe(`/${segments.join("/")}`);
      }),
    );
  });

  it("any other character anywhere in a name is refused", () => {
    const outside = fc
      .integer({ min: 0, max: 0x10ffff })
      .filter((c) => c < 0xd800 || c > 0xdfff)
      .map((c) => String.fromCodePoint(c))
      .filter((c) => !/^[A-Za-z0-9_.\-/]$/.test(c));
    fc.assert(
      fc.property(
        fc.array(segment, { minLength: 1, maxLength: 5 }),
        outside,
        fc.nat(),
        (segments, bad, at) => {
          const locator = segments.join("/");
          const i = at % (locator.length + 1);
          const broken = `${locator.slice(0, i)}${bad}${locator.slice(i)}`;
          expect(checkReference(broken, {}, undefined)).toBeDefined();
        },
      ),
    );
  });
});

describe("vals' prefix form: the document of the parameters under a path", () => {
  const base = "/app/cfg";

  it("one level: each parameter is its own key with its value, whatever order SSM lists them in", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(segment, { minLength: 1, maxLength: 12 }),
        fc.array(fc.string({ unit: "grapheme" }), { minLength: 12, maxLength: 12 }),
        (keys, values) => {
          const entries = keys.map((k, i) => ({ name: `${base}/${k}`, value: values[i] ?? "" }));
          const document = documentOf(base, entries);
          expect(Object.keys(document).sort()).toEqual([...keys].sort());
          for (const [i, key] of keys.entries()) expect(fieldOf(document, pointerOf(key))).toBe(values[i]);
          expect(JSON.stringify(documentOf(base, [...entries].reverse()))).toBe(JSON.stringify(document));
        },
      ),
    );
  });

  it("recursive: every parameter with nothing under it is reachable by its pointer; one with parameters under it is their map", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(relative, { minLength: 1, maxLength: 15 }),
        fc.boolean(),
        (names, reverse) => {
          const entries = names.map((rest) => ({ name: `${base}/${rest}`, value: `value of ${rest}` }));
          const document = documentOf(base, reverse ? [...entries].reverse() : entries);
          expect(JSON.stringify(documentOf(base, [...entries].reverse()))).toBe(JSON.stringify(document));
          for (const rest of names) {
            const hasChildren = names.some((other) => other.startsWith(`${rest}/`));
            const got = fieldOf(document, pointerOf(rest));
            if (hasChildren) expect(typeof JSON.parse(got)).toBe("object");
            else expect(got).toBe(`value of ${rest}`);
          }
        },
      ),
    );
  });

  it("vals' README example, and a trailing / on the path changes nothing", () => {
    const entries = [
      { name: "/foo/bar", value: '{"BAR":"VALUE"}' },
      { name: "/foo/bar/a", value: "A" },
      { name: "/foo/bar/b", value: "B" },
    ];
    expect(JSON.stringify(documentOf("/foo", entries))).toBe('{"bar":{"a":"A","b":"B"}}');
    expect(JSON.stringify(documentOf("/foo/bar", entries.slice(1)))).toBe('{"a":"A","b":"B"}');
    expect(documentOf("/foo/", entries)).toEqual(documentOf("/foo", entries));
  });
});
