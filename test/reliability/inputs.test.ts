// Group A cases that need a network provider (the fake Vault): absent secrets and endpoints that
// point somewhere they must not.
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canary } from "../helpers/canary.ts";
import { runCli } from "../helpers/cli.ts";
import { NODE24 } from "../helpers/nodes.ts";
import { createTestPki, type TestPki } from "../servers/tls.ts";
import { FakeVault } from "../servers/vault.ts";

let vault: FakeVault;
let pki: TestPki;
let token: string;
beforeAll(async () => {
  pki = createTestPki();
  vault = await FakeVault.start({ tls: pki.valid });
  await vault.mountKv("secret", 2);
  await vault.putKv("secret", "app/db", { password: canary("V1") });
  await vault.putKv("secret", "app/db", { password: canary("V2") });
  await vault.putKv("secret", "app/db", { password: canary("V3") });
  await vault.deleteVersion("secret", "app/db", 1);
  await vault.destroyVersion("secret", "app/db", 2);
  token = await vault.createToken(["secret/data/app/*"]);
});
afterAll(() => vault.close());

const env = (extra: Record<string, string>) => ({
  VAULT_ADDR: vault.url,
  VAULT_CACERT: pki.caFile,
  VAULT_TOKEN: token,
  ...extra,
});

describe("A15: an absent secret is a fetch failure naming the reference, never a placeholder", () => {
  it.each([
    ["a path that does not exist (404)", "ref+vault://secret/app/nope#password", /SECRET_NOT_FOUND/],
    ["a deleted KV v2 version", "ref+vault://secret/app/db?version=1#password", /version 1 .*deleted/],
    ["a destroyed KV v2 version", "ref+vault://secret/app/db?version=2#password", /version 2 .*destroyed/],
  ])("A15: %s", async (_what, ref, message) => {
    const result = await runCli(["run", "--", "sh", "-c", "echo started"], {
      node: NODE24,
      env: env({ DB: ref }),
    });
    expect(result.code).toBe(69);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain(ref);
  });
});

const canUnshareNet = (() => {
  try {
    execFileSync("unshare", ["--net", "true"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!canUnshareNet)("A17: endpoints from variables that point elsewhere", () => {
  // Run in an empty network namespace: even a broken check could not send anything anywhere.
  it.each(["http://198.51.100.7:8200", "http://vault.example.invalid:8200"])(
    "A17: VAULT_ADDR=%s (plain HTTP, not loopback) is refused before any connection",
    async (address) => {
      const result = await runCli(["run", "--", "true"], {
        node: NODE24,
        env: { VAULT_ADDR: address, VAULT_TOKEN: canary("TOKEN"), DB: "ref+vault://secret/app/db#password" },
        prefix: ["unshare", "--net"],
      });
      expect(result.code).toBe(78);
      expect(result.stderr).toContain("credentials would travel unencrypted");
      expect(result.stderr).toContain("allowHttp");
    },
  );
});
