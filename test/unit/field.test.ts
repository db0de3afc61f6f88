import { describe, expect, it } from "vitest";
import { selectField } from "../../src/field.ts";

const json = (value: unknown, keyValueMap = false) => ({
  bytes: Buffer.from(JSON.stringify(value)),
  keyValueMap,
});
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("utf8");

describe("selectField", () => {
  it.each([
    ["A14: a missing key", json({ a: "1" }), "b", /field "b" is not in the secret \(keys: a\)/],
    ["A14: a null value", json({ a: null }), "a", /not in the secret/],
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
