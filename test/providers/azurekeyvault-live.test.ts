// The provider cases that need no fault injection, against a real Key Vault. Set
// SECRETWRAP_TEST_AZURE_VAULT_URL (https://<name>.vault.azure.net) and credentials the way the provider
// reads them (AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_CLIENT_SECRET or AZURE_FEDERATED_TOKEN_FILE,
// a managed identity, or SECRETWRAP_TEST_AZURE_AUTH=azureCli after `az login`). The identity needs
// "Key Vault Secrets Officer" on the vault: the test writes its own secrets (random names) and deletes
// them afterwards (soft delete; purge them if the vault keeps deleted secrets).
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SecretClient } from "@azure/keyvault-secrets";
import { connect, failure, type Connected } from "../servers/azure-session.ts";

const VAULT_URL = process.env["SECRETWRAP_TEST_AZURE_VAULT_URL"];
const AUTH = process.env["SECRETWRAP_TEST_AZURE_AUTH"] ?? "auto";
const reason =
  VAULT_URL === undefined ? " (skipped: set SECRETWRAP_TEST_AZURE_VAULT_URL and Azure credentials)" : "";

describe.skipIf(VAULT_URL === undefined)(`azurekeyvault against a real vault${reason}`, () => {
  const url = VAULT_URL ?? "";
  // The body is collected even when skipped: no URL parsing without a URL.
  const vault = VAULT_URL === undefined ? "" : (new URL(VAULT_URL).hostname.split(".")[0] ?? "");
  const prefix = `secretwrap-test-${randomBytes(4).toString("hex")}`;
  const written: string[] = [];
  let admin: SecretClient;
  let c: Connected;
  let pinned = { version: "", value: "" };

  beforeAll(async () => {
    const [{ SecretClient }, { DefaultAzureCredential }] = await Promise.all([
      import("@azure/keyvault-secrets"),
      import("@azure/identity"),
    ]);
    admin = new SecretClient(url, new DefaultAzureCredential());
    const put = async (name: string, value: string): Promise<string> => {
      written.push(name);
      return (await admin.setSecret(`${prefix}-${name}`, value)).properties.version ?? "";
    };
    pinned = { value: `CANARY_old_${randomBytes(6).toString("hex")}`, version: "" };
    pinned.version = await put("db", pinned.value);
    await put("db", "CANARY_latest");
    await put("json", JSON.stringify({ user: "app", password: "CANARY_json" }));
    c = await connect({
      env: process.env as Record<string, string>,
      options: { vaultUrls: { [vault]: url }, auth: { method: AUTH } },
    });
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled(
      [...new Set(written)].map((name) => admin.beginDeleteSecret(`${prefix}-${name}`)),
    );
  });

  it("resolves the latest version, a pinned version and a JSON secret", async () => {
    await expect(c.fetchWithRetry(`ref+azurekeyvault://${vault}/${prefix}-db`)).resolves.toMatchObject({
      text: "CANARY_latest",
    });
    await expect(
      c.fetchWithRetry(`ref+azurekeyvault://${vault}/${prefix}-db/${pinned.version}`),
    ).resolves.toEqual({
      text: pinned.value,
      version: pinned.version,
    });
    const json = await c.fetchWithRetry(`ref+azurekeyvault://${vault}/${prefix}-json#password`);
    expect(JSON.parse(json.text)).toEqual({ user: "app", password: "CANARY_json" });
  });

  it("maps a missing secret and a missing version to SECRET_NOT_FOUND", async () => {
    expect((await failure(c.fetchWithRetry(`ref+azurekeyvault://${vault}/${prefix}-absent`))).code).toBe(
      "SECRET_NOT_FOUND",
    );
    const version = "0123456789abcdef0123456789abcdef";
    expect(
      (await failure(c.fetchWithRetry(`ref+azurekeyvault://${vault}/${prefix}-db/${version}`))).code,
    ).toBe("SECRET_NOT_FOUND");
  });
});
