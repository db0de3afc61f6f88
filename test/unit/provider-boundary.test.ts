// The boundary between the core and the providers is ESLint's (eslint.config.js), not the build's: a
// provider imports src/ only through src/provider-api.ts, and a descriptor imports no package.
import { ESLint } from "eslint";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "../helpers/nodes.ts";

const eslint = new ESLint({ cwd: REPO });

async function importErrors(file: string, imports: readonly string[]): Promise<string[]> {
  const text = [...imports, "export {};", ""].join("\n");
  const [result] = await eslint.lintText(text, { filePath: join(REPO, file) });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId?.endsWith("no-restricted-imports") === true)
    .map((m) => m.message);
}

describe("the provider boundary", { timeout: 60_000 }, () => {
  it("a provider may import src/provider-api.ts", async () => {
    expect(await importErrors("providers/vault/read.ts", ['import "../../src/provider-api.ts";'])).toEqual(
      [],
    );
  });

  it("a provider importing any other src/ module fails lint", async () => {
    expect(await importErrors("providers/vault/read.ts", ['import "../../src/printable.ts";'])).toEqual([
      expect.stringContaining("a provider imports from src/ only src/provider-api.ts"),
    ]);
    expect(
      await importErrors("test/fixtures/provider-echo/index.ts", ['import "../../../src/errors.ts";']),
    ).toEqual([expect.stringContaining("a provider imports from src/ only src/provider-api.ts")]);
  });

  it("a descriptor importing a package or its implementation fails lint", async () => {
    expect(
      await importErrors("providers/vault/descriptor.ts", ['import "node-vault";', 'import "./index.ts";']),
    ).toEqual([
      expect.stringContaining("a descriptor imports no package"),
      expect.stringContaining("a descriptor loads its implementation and schema lazily"),
    ]);
  });
});
