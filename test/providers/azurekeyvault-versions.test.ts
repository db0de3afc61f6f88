// The azurekeyvault provider under `run --watch`: Key Vault has no cheap version check (why:
// providers/azurekeyvault/descriptor.ts), so the watch fetches and compares; what it relies on is that
// each fetch serves the current value with its Key Vault version id. New versions reach the fake
// through Set Secret (`PUT /secrets/{name}`), sent by the real @azure/keyvault-secrets client
// (test/servers/azure-writer.ts); the provider reads with the real SDKs over HTTPS.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { descriptor } from "../../providers/azurekeyvault/descriptor.ts";
import { canary } from "../helpers/canary.ts";
import { AzureFake, isAuthorizedSecretGet, isSecretSet } from "../servers/azure.ts";
import { azureSetup } from "../servers/azure-client.ts";
import { connect, expectClean, failure } from "../servers/azure-session.ts";
import { createTestPki, type TestPki } from "../servers/tls.ts";
import { AzureWriter } from "../servers/azure-writer.ts";

let pki: TestPki;
let fake: AzureFake;
let writer: AzureWriter;
let dir: string;

beforeAll(() => {
  pki = createTestPki();
  dir = mkdtempSync(join(tmpdir(), "secretwrap-azure-versions-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(pki.dir, { recursive: true, force: true });
});
afterEach(async () => {
  await fake?.close();
});

async function start(): Promise<void> {
  fake = await AzureFake.start({ pki });
  writer = new AzureWriter(fake, pki);
}

describe("azurekeyvault versions under --watch", () => {
  it("declares no checkVersion and has none: the watch fetches and compares", async () => {
    expect(descriptor.capabilities.checkVersion).toBeUndefined();
    await start();
    const c = await connect(azureSetup(fake, pki, "clientSecret", dir));
    expect("checkVersion" in c.session).toBe(false);
  });

  it("after setSecret a fetch serves the new value with a new version; unchanged, the same version", async () => {
    await start();
    const [first, second] = [canary("KV1"), canary("KV2")];
    const v1 = await writer.setSecret("db-pass", first);
    expect(v1).toMatch(/^[0-9a-f]{32}$/);
    const c = await connect(azureSetup(fake, pki, "workloadIdentity", dir));
    const ref = "ref+azurekeyvault://kv-test/db-pass";
    await expect(c.fetch(ref)).resolves.toEqual({ text: first, version: v1 });
    // Unchanged: every fetch names the same version.
    for (let i = 0; i < 3; i++) await expect(c.fetch(ref)).resolves.toEqual({ text: first, version: v1 });

    const v2 = await writer.setSecret("db-pass", second);
    expect(v2).not.toBe(v1);
    const reads = fake.vault.count(isAuthorizedSecretGet);
    await expect(c.fetch(ref)).resolves.toEqual({ text: second, version: v2 });
    expect(fake.vault.count(isAuthorizedSecretGet) - reads).toBe(1);
    // The old version stays readable by its id.
    await expect(c.fetch(`${ref}/${v1}`)).resolves.toEqual({ text: first, version: v1 });
    // The writes went through the write API, with the challenge (the first one carried no token).
    expect(fake.secretSets()).toBe(2);
    expect(fake.vault.count(isSecretSet)).toBe(3);
    for (const line of c.logs) {
      expect(line).not.toContain(first);
      expect(line).not.toContain(second);
    }
  });

  it("a failure after a rotation names the secret, never a value", async () => {
    await start();
    const value = canary("KVFAIL");
    const version = await writer.setSecret("rotated", value);
    fake.disable("rotated", version);
    const c = await connect(azureSetup(fake, pki, "clientSecret", dir));
    const e = await failure(c.fetch("ref+azurekeyvault://kv-test/rotated"));
    expect(e.code).toBe("ACCESS_DENIED");
    expect(e.message).toContain("rotated");
    expectClean(e, [value]);
    for (const line of c.logs) expect(line).not.toContain(value);
  });
});
