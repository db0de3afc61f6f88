import { describe, expect, it } from "vitest";
import { parseEnvFile } from "../../../src/config/envfile.ts";

describe("parseEnvFile", () => {
  it("reports malformed lines with their numbers instead of skipping them", () => {
    const { entries, problems } = parseEnvFile(
      "OK=1\nthis is not an assignment\n1BAD=x\nQ=\"never closed\nR='x' trailing\n",
    );
    expect(entries.map((e) => e.name)).toEqual(["OK"]);
    expect(problems).toEqual([
      { line: 2, message: "expected NAME=value" },
      { line: 3, message: "the name before = is not a valid variable name" },
      { line: 4, message: "the double quote is never closed" },
    ]);
  });

  it.each([
    ["A=plain", "plain"],
    ["export A=plain", "plain"],
    ["A = spaced  ", "spaced"],
    ["A=value # comment", "value"],
    ["A=value#not-a-comment", "value#not-a-comment"],
    ["A=", ""],
    ['A="double # not comment"', "double # not comment"],
    ['A="esc\\n\\t\\"q\\""', 'esc\n\t"q"'],
    ["A='single $HOME \\n'", "single $HOME \\n"],
    ["A=K=V=W", "K=V=W"],
    ["A=ref+vault://secret/db#password", "ref+vault://secret/db#password"],
  ])("%s", (line, value) => {
    const { entries, problems } = parseEnvFile(line);
    expect(problems).toEqual([]);
    expect(entries).toEqual([{ name: "A", value, line: 1 }]);
  });

  it("quoted values may span lines (PEM)", () => {
    const { entries } = parseEnvFile('KEY="-----BEGIN-----\nabc\n-----END-----"\nNEXT=1\n# c\n\n');
    expect(entries).toEqual([
      { name: "KEY", value: "-----BEGIN-----\nabc\n-----END-----", line: 1 },
      { name: "NEXT", value: "1", line: 4 },
    ]);
  });
});
