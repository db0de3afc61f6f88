// The managed-identity cases, run once per source (App Service, IMDS). msal-node keeps the source and
// its token cache in static fields, i.e. once per process: each source therefore runs in its own test
// file (vitest isolates files), against one fake for the whole file, and counts requests as deltas.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { AzureFake, isSecretGet, randomGuid } from "./azure.ts";
import { azureSetup, type AzureSetup } from "./azure-client.ts";
import { clearManagedIdentityEnv, connect, expectClean, failure } from "./azure-session.ts";
import { reply } from "./harness.ts";
import { createTestPki, type TestPki } from "./tls.ts";

export function managedIdentitySuite(kind: "appService" | "imds"): void {
  let pki: TestPki;
  let fake: AzureFake;
  let dir: string;
  const tokenPath = kind === "appService" ? "/msi/token" : "/metadata/identity/oauth2/token/";
  const msiRequests = (): number => fake.msi.count((r) => r.path.startsWith(tokenPath));

  beforeAll(async () => {
    pki = createTestPki();
    dir = mkdtempSync(join(tmpdir(), "secretwrap-azure-msi-"));
    fake = await AzureFake.start({ pki });
  });
  afterAll(async () => {
    clearManagedIdentityEnv();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(pki.dir, { recursive: true, force: true });
  });

  /** A managed-identity setup for a user-assigned identity the fake knows (or not). */
  function userAssigned(known: boolean): { setup: AzureSetup; clientId: string } {
    const clientId = randomGuid();
    if (known) fake.identity.userAssignedClientIds.push(clientId);
    const base = azureSetup(fake, pki, kind, dir);
    return {
      clientId,
      setup: { ...base, options: { ...base.options, auth: { method: "managedIdentity", clientId } } },
    };
  }

  it("resolves latest, pinned and JSON secrets with one token request (system-assigned)", async () => {
    const v1 = fake.putSecret("db-pass", "CANARY_mi_v1");
    const v2 = fake.putSecret("db-pass", "CANARY_mi_v2");
    fake.putSecret("cfg", JSON.stringify({ password: "CANARY_mi_json" }));
    const c = await connect(azureSetup(fake, pki, kind, dir));
    await expect(c.fetch("ref+azurekeyvault://kv-test/db-pass")).resolves.toEqual({
      text: "CANARY_mi_v2",
      version: v2,
    });
    await expect(c.fetch(`ref+azurekeyvault://kv-test/db-pass/${v1}`)).resolves.toEqual({
      text: "CANARY_mi_v1",
      version: v1,
    });
    await expect(c.fetch("ref+azurekeyvault://kv-test/cfg#password")).resolves.toMatchObject({
      text: '{"password":"CANARY_mi_json"}',
    });
    expect(msiRequests()).toBe(1);
    const [token, issued] = [...fake.identity.tokens.entries()][0] ?? [];
    expect(issued).toMatchObject({ via: kind, principal: fake.identity.systemAssignedClientId });
    expect(c.masked).toContain(token);
    if (kind === "appService") {
      expect(c.masked).toContain(fake.identity.identityHeader);
      expect(fake.msi.requests[0]?.headers["x-identity-header"]).toBe(fake.identity.identityHeader);
    } else {
      expect(fake.msi.requests[0]?.headers["metadata"]).toBe("true");
    }
    expect(c.session.consumedEnv).toEqual([]);
  });

  it("asks for the user-assigned identity named by auth.clientId", async () => {
    fake.putSecret("ua", "CANARY_ua");
    const { setup, clientId } = userAssigned(true);
    const before = msiRequests();
    const c = await connect(setup);
    await expect(c.fetch("ref+azurekeyvault://kv-test/ua")).resolves.toMatchObject({ text: "CANARY_ua" });
    expect(msiRequests() - before).toBe(1);
    expect(fake.msi.requests.at(-1)?.path).toContain(`client_id=${clientId}`);
  });

  it("fails with AUTH_FAILED, asking once, for an identity that is not assigned", async () => {
    const { setup } = userAssigned(false);
    const before = msiRequests();
    const c = await connect(setup);
    const errors = await Promise.all(
      [1, 2].map(() => failure(c.fetchWithRetry("ref+azurekeyvault://kv-test/ua"))),
    );
    for (const error of errors) {
      expect(error.code).toBe("AUTH_FAILED");
      expect(error.message).toContain("managedIdentity could not get a token (HTTP 400");
      expectClean(error, [fake.identity.identityHeader, ...fake.identity.tokens.keys()]);
    }
    // No IMDS retry policy behind ours (it would make 6 requests for one 4xx).
    expect(msiRequests() - before).toBe(1);
  });

  it("retries an endpoint that answers 503 and 500, then gets a token", async () => {
    fake.putSecret("later", "CANARY_later");
    const { setup } = userAssigned(true);
    fake.msi.script(
      () => true,
      [
        reply(503, { error: "service_unavailable", error_description: "CANARY_msi_desc" }),
        reply(500, { error: "server_error", error_description: "busy" }),
      ],
    );
    const before = msiRequests();
    const c = await connect(setup);
    const first = await failure(c.fetch("ref+azurekeyvault://kv-test/later"));
    expect([first.code, first.transient]).toEqual(["FETCH_FAILED", true]);
    expectClean(first, ["CANARY_msi_desc"]);
    await expect(c.fetchWithRetry("ref+azurekeyvault://kv-test/later")).resolves.toMatchObject({
      text: "CANARY_later",
    });
    expect(msiRequests() - before).toBe(3);
  });

  it("bounds a hung endpoint by the attempt timeout and the deadline", async () => {
    const { setup } = userAssigned(true);
    fake.msi.script(() => true, [{ kind: "hang" }], { forever: true });
    const c = await connect(setup);
    const started = Date.now();
    const error = await failure(c.fetchWithRetry("ref+azurekeyvault://kv-test/ua", 4_000));
    expect(error.code).toBe("FETCH_TIMEOUT");
    expect(Date.now() - started).toBeLessThan(7_000);
    fake.msi.clearFaults();
  });

  it("gets AUTH_FAILED when the vault is in another tenant than the identity", async () => {
    fake.putSecret("elsewhere", "CANARY_elsewhere");
    fake.vaultTenant = randomGuid();
    try {
      const c = await connect(userAssigned(true).setup);
      const before = fake.vault.count(isSecretGet);
      const error = await failure(c.fetchWithRetry("ref+azurekeyvault://kv-test/elsewhere"));
      expect(error.code).toBe("AUTH_FAILED");
      expect(error.message).toBe("azurekeyvault: vault kv-test rejected the token (HTTP 401 Unauthorized)");
      // challenge, then one try with the token: not retried
      expect(fake.vault.count(isSecretGet) - before).toBe(2);
    } finally {
      fake.vaultTenant = fake.identity.tenantId;
    }
  });
}
