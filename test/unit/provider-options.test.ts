// A provider's config block is checked by the core with the provider's own schema (its descriptor's
// options()), and what reaches connect() is that block, typed: every problem is a config problem (78),
// never an INTERNAL error out of a provider's connect.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadDeclarations } from "../../src/config/load.ts";
import { EXIT_CODE } from "../../src/errors.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-provider-options-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function config(name: string, lines: readonly string[]): string {
  const path = join(work, name);
  writeFileSync(path, ["version: 1", ...lines, ""].join("\n"));
  return path;
}

describe("provider config blocks", () => {
  it("an invalid azurekeyvault block is a config problem per mistake, none INTERNAL", async () => {
    const path = config("azure.yaml", [
      "providers:",
      "  azurekeyvault:",
      "    auth: { method: password, tenantId: 5 }",
      "    colour: red",
    ]);
    const loaded = await loadDeclarations({ env: {}, configPath: path });
    expect(loaded.problems.map((p) => [p.code, p.exitCode])).toEqual([
      ["CONFIG_INVALID", EXIT_CODE.CONFIG_INVALID],
      ["CONFIG_INVALID", EXIT_CODE.CONFIG_INVALID],
      ["CONFIG_INVALID", EXIT_CODE.CONFIG_INVALID],
    ]);
    expect(loaded.problems.map((p) => p.message)).toEqual([
      expect.stringContaining("providers.azurekeyvault.auth.method: expected"),
      expect.stringContaining("providers.azurekeyvault.auth.tenantId: expected string"),
      expect.stringContaining('providers.azurekeyvault: unknown key "colour"'),
    ]);
  });

  it("a valid block is handed on as the user wrote it (not a copy rebuilt by the schema)", async () => {
    const path = config("vault.yaml", [
      "providers:",
      "  vault: { address: 'https://vault.example:8200', auth: { method: token } }",
      "  file: {}",
    ]);
    const loaded = await loadDeclarations({ env: {}, configPath: path });
    expect(loaded.problems).toEqual([]);
    expect(loaded.providerOptions["vault"]).toEqual({
      address: "https://vault.example:8200",
      auth: { method: "token" },
    });
    expect(loaded.providerOptions["file"]).toEqual({});
  });

  it("an empty block (null in YAML) means every default", async () => {
    const path = config("empty.yaml", ["providers:", "  gcpsecrets:"]);
    const loaded = await loadDeclarations({ env: {}, configPath: path });
    expect(loaded.problems).toEqual([]);
    expect(loaded.providerOptions["gcpsecrets"]).toEqual({});
  });
});
