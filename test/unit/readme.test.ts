// The README is part of the contract: its exit-code table and quick start must match the code.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EXIT_CODE, type ErrorCode } from "../../src/errors.ts";
import { SECRETS_CHANGED_EXIT } from "../../src/watch/options.ts";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

function exitCodeTable(): Map<number, string> {
  const start = readme.indexOf("<!-- exit-codes");
  const table = readme.slice(start, readme.indexOf("\n\n", readme.indexOf("| code", start)));
  const rows = new Map<number, string>();
  for (const line of table.split("\n")) {
    const match = /^\|\s*(\d+)\s*\|(.+)\|$/.exec(line);
    if (match) rows.set(Number(match[1]), match[2] ?? "");
  }
  return rows;
}

describe("README", () => {
  it("documents exactly the exit codes secretwrap uses", () => {
    const documented = [...exitCodeTable().keys()].sort((a, b) => a - b);
    // INTERRUPTED is 128+N, documented in the first row with the command's own codes.
    const used = [
      ...new Set([
        ...Object.entries(EXIT_CODE)
          .filter(([code]) => (code as ErrorCode) !== "INTERRUPTED")
          .map(([, n]) => n),
        // not an error: --watch --on-change exit stopped the app on purpose
        SECRETS_CHANGED_EXIT,
      ]),
    ].sort((a, b) => a - b);
    expect(documented).toEqual(used);
  });

  it("has an Errors section for every error code", () => {
    const errors = readme.slice(
      readme.indexOf("## Errors and how to fix them"),
      readme.indexOf("## Logging and secrecy"),
    );
    const headings = [...errors.matchAll(/^### (.+)$/gm)].map((m) => m[1] ?? "").join(" ");
    for (const code of Object.keys(EXIT_CODE).filter((c) => c !== "INTERRUPTED")) {
      expect(headings, code).toContain(code.toLowerCase());
    }
  });

  it("the quick start has exactly two commands", () => {
    const quick = readme.slice(readme.indexOf("## Quick start"), readme.indexOf("## Contents"));
    const block = /```sh\n([\s\S]*?)```/.exec(quick)?.[1] ?? "";
    const commands = block
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => l.replace(/\s+#.*$/, ""));
    expect(commands).toEqual(["npm run example", "npm test"]);
  });
});
