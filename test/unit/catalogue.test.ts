// docs/testing.md maps every case of the reliability matrix (groups A-E) to the tests that name it.
// This keeps the map honest: a case missing from it, or a file that does not name the case, fails.
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url);
const catalogue = readFileSync(new URL("docs/testing.md", root), "utf8");
const matrixFile = new URL("../shared/reference/reliability.md", root);

function rowsOf(idPattern: string): { id: string; files: string[] }[] {
  const row = new RegExp(`^\\|\\s*(${idPattern})\\s*\\|[^\\n]*?\\|\\s*((?:\`[^\`]+\`(?:, )?)+)\\s*\\|`, "gm");
  return [...catalogue.matchAll(row)].map((m) => ({
    id: m[1] ?? "",
    files: [...(m[2] ?? "").matchAll(/`([^`]+)`/g)].map((f) => f[1] ?? ""),
  }));
}

const rows = rowsOf("[A-E]\\d+");
// Issue 13's rules (fail closed, leak nothing), R1-R18: each is a class of input or timing with its own tests.
const ruleRows = rowsOf("R\\d+");
const RULES = 18;

describe("docs/testing.md", () => {
  it.skipIf(!existsSync(matrixFile))("lists every case id of groups A-E of the reliability matrix", () => {
    const matrix = readFileSync(matrixFile, "utf8");
    const section = matrix.slice(
      matrix.indexOf("### A. Bad input"),
      matrix.indexOf("Totals: the cases above"),
    );
    const ids = [...section.matchAll(/^\| ([A-E]\d+) \|/gm)].map((m) => m[1]);
    expect(ids.length).toBeGreaterThan(70);
    expect(rows.map((r) => r.id)).toEqual(ids);
  });

  it("lists every rule R1-R18 once, in order", () => {
    expect(ruleRows.map((r) => r.id)).toEqual(Array.from({ length: RULES }, (_, i) => `R${i + 1}`));
  });

  it("every file listed for a case or rule has a test that names it", () => {
    const missing: string[] = [];
    for (const { id, files } of [...rows, ...ruleRows]) {
      expect(files.length, id).toBeGreaterThan(0);
      for (const file of files) {
        const text = readFileSync(new URL(file, root), "utf8");
        if (!new RegExp(`["'\`][^"'\`\\n]*\\b${id}\\b[^"'\`\\n]*["'\`]`).test(text))
          missing.push(`${id} → ${file}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
