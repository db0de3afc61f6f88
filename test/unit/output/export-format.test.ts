// `secretwrap export`'s formats, each read back by its real reader: a value survives byte for byte or
// is refused with a reason, never altered. shell: sourced by bash and dash; json: parsed; dotenv: the
// grammar of `docker run --env-file` (docker/cli opts/envfile.go: lines read literally, no quotes or
// escapes, the name is what comes before the first `=`, a line of at most 64 KiB).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { parseJson } from "../../../src/json.ts";
import { formatExport } from "../../../src/output/export-format.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-export-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Any text an env value can be: UTF-8 without NUL, with what breaks naive quoting made likely. */
const value = fc
  .oneof(
    fc.string({
      unit: fc.constantFrom("'", '"', "$", "`", "\\", "\n", "\r", " ", "#", "=", "!", "a", "é", "😀", "*"),
    }),
    fc.string({ unit: "grapheme" }),
  )
  .map((v) => v.replaceAll("\0", ""));
const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,15}$/);
/** Names bash and dash keep as assigned (the ones a shell owns are refused: tested below). */
const SHELL_OWNED = [
  "_",
  "UID",
  "EUID",
  "PPID",
  "RANDOM",
  "SECONDS",
  "LINENO",
  "BASHPID",
  "GROUPS",
  "SHELLOPTS",
];
const entries = fc.uniqueArray(fc.tuple(name, value), { selector: ([n]) => n, maxLength: 6 });

/** What a shell sees after sourcing the text: each variable's value, as bytes in hex. */
function sourced(shell: string, text: string, names: readonly string[]): string[] {
  const file = join(work, "exported.sh");
  writeFileSync(file, text);
  const script = `. ${file}\n${names.map((n) => `printf '%s' "$${n}" | od -An -tx1 | tr -d ' \\n'; echo`).join("\n")}`;
  const result = spawnSync(shell, ["-c", script], { encoding: "utf8", env: {} });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout.split("\n").slice(0, names.length);
}

/** docker's env-file reader, line by line as opts/envfile.go reads it. */
function dockerEnvFile(text: string): [string, string][] {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines
    .map((line) => line.replace(/^\s+/, ""))
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]);
}

const hex = (text: string): string => Buffer.from(text).toString("hex");

describe("export formats", () => {
  it("shell: bash and dash get every value back byte for byte", () => {
    fc.assert(
      fc.property(entries, (all) => {
        const pairs = all.filter(([n]) => !SHELL_OWNED.includes(n));
        const text = formatExport(pairs, "shell");
        for (const shell of ["bash", "dash"])
          expect(
            sourced(
              shell,
              text,
              pairs.map(([n]) => n),
            ),
          ).toEqual(pairs.map(([, v]) => hex(v)));
      }),
      { numRuns: 60 },
    );
  });

  it("shell: a name the shell sets itself ($_, RANDOM, UID…) is refused, naming it", () => {
    for (const owned of SHELL_OWNED)
      expect(() => formatExport([[owned, "x"]], "shell")).toThrow(new RegExp(`^${owned}: a shell sets`));
  });

  it("json: parsed back to the same names and values, __proto__ included", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.oneof(name, fc.constant("__proto__")), value), { selector: ([n]) => n }),
        (pairs) => {
          const parsed = parseJson(formatExport(pairs, "json")) as Record<string, string>;
          expect(Object.entries(parsed)).toEqual(pairs);
        },
      ),
    );
  });

  it("dotenv: docker's reader gets every one-line value back as it was (spaces, quotes, #, = included)", () => {
    fc.assert(
      fc.property(entries, (pairs) => {
        const oneLine = pairs.filter(([, v]) => !/[\n\r]/.test(v));
        expect(dockerEnvFile(formatExport(oneLine, "dotenv"))).toEqual(oneLine);
      }),
    );
  });

  it("dotenv: a value docker cannot read back (several lines, a line over 64 KiB) is refused, naming it", () => {
    for (const bad of ["a\nb", "a\r", "\n", "x".repeat(64 * 1024)]) {
      expect(() =>
        formatExport(
          [
            ["OK", "fine"],
            ["BAD", bad],
          ],
          "dotenv",
        ),
      ).toThrow(/BAD: the value/);
    }
    expect(formatExport([["OK", "x".repeat(64 * 1024 - 4)]], "dotenv")).toHaveLength(64 * 1024);
  });
});
