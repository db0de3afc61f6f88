import { describe, expect, it } from "vitest";
import { buildChildEnv, envValue, type ChildEnvInput } from "../../../src/output/env.ts";
import { SecretwrapError } from "../../../src/errors.ts";

const base: ChildEnvInput = {
  inherited: {
    PATH: "/bin",
    HOME: "/root",
    APP: "1",
    DB: "ref+file://./db",
    SECRETWRAP_LOG_LEVEL: "debug",
    VAULT_TOKEN: "boot",
    UNSET: undefined,
  },
  pristine: false,
  keepEnv: [],
  envFileValues: {},
  declaredNames: new Set(["DB"]),
  assigned: new Map([["DB", "value"]]),
  consumedEnv: ["VAULT_TOKEN"],
};

describe("buildChildEnv", () => {
  it("inherited − references − SECRETWRAP_* − consumed credentials + values", () => {
    expect(buildChildEnv(base)).toEqual({ PATH: "/bin", HOME: "/root", APP: "1", DB: "value" });
  });

  it("--keep-env keeps a consumed variable", () => {
    expect(buildChildEnv({ ...base, keepEnv: ["VAULT_TOKEN"] })["VAULT_TOKEN"]).toBe("boot");
  });

  it("--pristine keeps PATH, HOME, TERM, LANG, kept and declared names only", () => {
    expect(buildChildEnv({ ...base, pristine: true, keepEnv: ["APP"] })).toEqual({
      PATH: "/bin",
      HOME: "/root",
      APP: "1",
      DB: "value",
    });
  });

  it("env-file values are defaults: the inherited environment wins", () => {
    expect(buildChildEnv({ ...base, envFileValues: { APP: "2", NEW: "3" } })).toMatchObject({
      APP: "1",
      NEW: "3",
    });
  });

  it("an optional secret that was not found leaves no reference behind", () => {
    expect(buildChildEnv({ ...base, assigned: new Map() })).not.toHaveProperty("DB");
  });

  it("a fetched value that looks like a reference is delivered as is", () => {
    expect(buildChildEnv({ ...base, assigned: new Map([["DB", "ref+vault://x/y"]]) })["DB"]).toBe(
      "ref+vault://x/y",
    );
  });

  it("an undeclared reference can never reach the app", () => {
    expect(() => buildChildEnv({ ...base, declaredNames: new Set() })).toThrow(SecretwrapError);
  });
});

describe("envValue", () => {
  it.each([
    [Buffer.from([97, 0, 98]), /NUL/],
    [Buffer.alloc(128 * 1024, 97), /128 KiB/],
    [Buffer.from([0xff, 0xfe]), /UTF-8/],
  ])("refuses what cannot be an env value", (bytes, message) => {
    expect(() => envValue(bytes, "X")).toThrow(message);
  });
  it("keeps multi-line text, CRLF and spaces exactly", () => {
    expect(envValue(Buffer.from(" a\r\nb \n"), "X")).toBe(" a\r\nb \n");
  });
});
