import { describe, expect, it } from "vitest";
import { validateOptions } from "../../providers/file/options.ts";

describe("the file provider's options", () => {
  it.each([
    ["a string", "x", ["expected object"]],
    ["null", null, ["expected object"]],
    ["a list", [], ["expected object"]],
    ["an unknown key", { path: "/x" }, ['unknown key "path"']],
    ["unknown keys", { a: 1, b: 2 }, ['unknown keys "a", "b"']],
  ])("refuses %s", (_what, options, messages) => {
    expect(validateOptions(options).map((issue) => issue.message)).toEqual(messages);
  });

  it("accepts an empty object: it takes no options", () => {
    expect(validateOptions({})).toEqual([]);
  });
});
