import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SecretwrapError } from "../../src/errors.ts";
import { selectField } from "../../src/field.ts";

const json = (value: unknown, keyValueMap = false) => ({
  bytes: Buffer.from(JSON.stringify(value)),
  keyValueMap,
});
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("utf8");

describe("selectField", () => {
  it.each([
    ["A14: a missing key", json({ a: "1" }), "b", /field "b" is not in the secret \(keys: a\)/],
    ["A14: a null value", json({ a: null }), "a", /field "a" is in the secret, but its value is null/],
    ["a missing pointer", json({ a: { b: 1 } }), "/a/c", /not in the secret/],
    ["a field on non-JSON", { bytes: Buffer.from("plain {secret") }, "a", /not valid JSON/],
    [
      "a KV map with several keys and no field",
      json({ user: "u", password: "p" }, true),
      undefined,
      /holds 2 keys \(user, password\); say which one/,
    ],
    ["an empty KV map", json({}, true), undefined, /holds 0 keys/],
  ])("refuses %s", (_what, fetched, field, message) => {
    expect(() => selectField(fetched, field)).toThrow(message);
  });

  it("never quotes the value in a JSON error", () => {
    expect(() => selectField({ bytes: Buffer.from('{"a": "CANARY_X",') }, "a")).toThrow(/^(?!.*CANARY_X)/);
  });

  it.each([
    ["the whole value without a field", { bytes: Buffer.from("  {not json") }, undefined, "  {not json"],
    ["a top-level key", json({ password: "p@ss" }), "password", "p@ss"],
    ["a JSON pointer", json({ db: { password: "x" } }), "/db/password", "x"],
    ["an escaped pointer", json({ "a/b": { "c~d": "v" } }), "/a~1b/c~0d", "v"],
    ["an array index", json({ list: ["zero", "one"] }), "/list/1", "one"],
    ["a number as text", json({ port: 5432 }), "port", "5432"],
    ["an object as JSON", json({ o: { k: 1 } }), "o", '{"k":1}'],
    ["A14: an empty string", json({ e: "" }), "e", ""],
    ["the single key of a KV map", json({ token: "t" }, true), undefined, "t"],
  ])("delivers %s", (_what, fetched, field, expected) => {
    expect(text(selectField(fetched, field))).toBe(expected);
  });
});

// README: "Numbers and booleans are delivered as their JSON text": as written, never through a double
// (which made 12345678901234567890 12345678901234567000, 1.0 1 and 1e400 Infinity). vault-env delivers
// a Vault number's digits as written too (cast.ToStringE of a json.Number).
describe("numbers are delivered as written in the JSON", () => {
  it.each([
    ["12345678901234567890"],
    ["1.0"],
    ["1e3"],
    ["-0"],
    ["1E+2"],
    ["1e400"],
    ["9007199254740993"],
    ["0.1000000000000000055511151231257827"],
  ])("%s", (written) => {
    expect(text(selectField({ bytes: Buffer.from(`{"n": ${written}}`) }, "n"))).toBe(written);
    expect(text(selectField({ bytes: Buffer.from(`{"a": [0, ${written}]}`) }, "/a/1"))).toBe(written);
    expect(
      text(selectField({ bytes: Buffer.from(`{"only":${written}}`), keyValueMap: true }, undefined)),
    ).toBe(written);
  });

  it("inside an object or array field, as written; strings that look like numbers stay strings", () => {
    const bytes = Buffer.from('{"o": {"a": 12345678901234567890, "b": [1.50, true, null, "7", "-1e9"]}}');
    expect(text(selectField({ bytes }, "o"))).toBe(
      '{"a":12345678901234567890,"b":[1.50,true,null,"7","-1e9"]}',
    );
    expect(text(selectField({ bytes }, "/o/b/3"))).toBe("7");
  });

  it("any JSON number, anywhere in any document: the selected text is the token as written", () => {
    // A number token of JSON's grammar, written the ways JSON allows.
    const token = fc
      .tuple(
        fc.constantFrom("", "-"),
        fc.oneof(fc.constant("0"), fc.stringMatching(/^[1-9][0-9]{0,30}$/)),
        fc.option(fc.stringMatching(/^\.[0-9]{1,30}$/), { nil: "" }),
        fc.option(fc.stringMatching(/^[eE][+-]?[0-9]{1,4}$/), { nil: "" }),
      )
      .map((parts) => parts.join(""));
    fc.assert(
      fc.property(
        fc.jsonValue().filter((v) => v !== null),
        token,
        fc.string({ maxLength: 6 }),
        (other, written, key) => {
          const bytes = Buffer.from(
            `{"other": ${JSON.stringify(other)}, ${JSON.stringify(`k${key}`)}: ${written}}`,
          );
          expect(text(selectField({ bytes }, `k${key}`))).toBe(written);
          expect(text(selectField({ bytes }, "other"))).toBe(
            typeof other === "string" ? other : JSON.stringify(other),
          );
        },
      ),
      { numRuns: 2000 },
    );
  });
});

const MACHINERY = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf"];

describe("R4: a #field is a key of the secret, never of Object.prototype", () => {
  it.each(MACHINERY)("R4: #%s selects the secret's own key, and is missing when it has none", (key) => {
    // JSON.parse makes "__proto__" an own key like any other.
    const own = { bytes: Buffer.from(`{${JSON.stringify(key)}: "v", "other": "o"}`) };
    expect(text(selectField(own, key))).toBe("v");
    expect(text(selectField(own, `/${key}`))).toBe("v");
    expect(() => selectField(json({ other: "o" }), key)).toThrow(
      new RegExp(`field "${key}" is not in the secret \\(keys: other\\)`),
    );
    expect(() => selectField(json({ other: "o" }), `/${key}`)).toThrow(/is not in the secret/);
  });

  it("R4: any key string: present → its value, absent → FIELD_MISSING (69)", () => {
    const key = fc.oneof(fc.constantFrom(...MACHINERY), fc.string({ maxLength: 12 }));
    fc.assert(
      fc.property(key, fc.string({ maxLength: 8 }), fc.boolean(), (name, value, present) => {
        fc.pre(name !== "" && !name.startsWith("/"));
        const document: Record<string, string> = Object.create(null) as Record<string, string>;
        document["x-other"] = "o";
        if (present) document[name] = value;
        const fetched = { bytes: Buffer.from(JSON.stringify(document)) };
        if (present && name !== "x-other") expect(text(selectField(fetched, name))).toBe(value);
        else if (name !== "x-other") {
          try {
            selectField(fetched, name);
            expect.unreachable();
          } catch (error) {
            expect((error as SecretwrapError).exitCode).toBe(69);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("R13: field extraction never throws past its boundary", () => {
  const deep = (depth: number, inner: string): string =>
    `{"a":${"[".repeat(depth)}${inner}${"]".repeat(depth)}}`;

  it.each([
    ["#a", "a"],
    ["#/a", "/a"],
    ["#/a/0", "/a/0"],
  ])("R13: JSON nested 100k deep under %s is a 69 (not 70, not an abort)", (_label, field) => {
    const fetched = { bytes: Buffer.from(deep(100_000, "1")) };
    try {
      selectField(fetched, field);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SecretwrapError);
      expect((error as SecretwrapError).exitCode).toBe(69);
      expect((error as SecretwrapError).message).toMatch(/nested too deeply|not valid JSON/);
    }
  });

  it("R13: a deep value is still reachable with a pointer past the depth", () => {
    const pointer = "/a" + "/0".repeat(100_000);
    expect(text(selectField({ bytes: Buffer.from(deep(100_000, '"leaf"')) }, pointer))).toBe("leaf");
  });

  it("R13: any bytes, any field, any depth: bytes or an error whose code is 69", () => {
    const document = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v))),
      fc.integer({ min: 1, max: 60_000 }).map((d) => Buffer.from(deep(d, "1"))),
    );
    const field = fc.option(fc.oneof(fc.string(), fc.constantFrom("a", "/a", "/a/0", ...MACHINERY)));
    fc.assert(
      fc.property(document, field, fc.boolean(), (bytes, f, map) => {
        try {
          selectField({ bytes, keyValueMap: map }, f ?? undefined);
        } catch (error) {
          expect(error).toBeInstanceOf(SecretwrapError);
          expect((error as SecretwrapError).exitCode).toBe(69);
        }
      }),
      { numRuns: 300 },
    );
  });
});
