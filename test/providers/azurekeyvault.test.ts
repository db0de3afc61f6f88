// The Azure provider against the wire-level fake (test/servers/azure.ts) with the real
// @azure/keyvault-secrets and @azure/identity over HTTPS: each credential method, versions, and the
// mapping of every Key Vault / Entra ID failure to secretwrap's codes. The retry layer is the real one
// (src/retry.ts), so "retried" means what it means in a run.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { chooseMethod } from "../../providers/azurekeyvault/method.ts";
import { vaultUrlFor } from "../../providers/azurekeyvault/vault-url.ts";
import { validateOptions } from "../../providers/azurekeyvault/options.ts";
import { Cancelled } from "../../src/cancellation.ts";
import { parseRef } from "../../src/config/ref.ts";
import type { SecretwrapError } from "../../src/errors.ts";
import { withRetry } from "../../src/retry.ts";
import { providerContext } from "../helpers/context.ts";
import { providerUnderTest } from "../helpers/provider-under-test.ts";
import { reply } from "../servers/harness.ts";
import {
  AzureFake,
  isAuthorizedSecretGet,
  isSecretGet,
  isTokenRequest,
  randomGuid,
} from "../servers/azure.ts";
import { azureSetup, type AzureMethod } from "../servers/azure-client.ts";
import { connect, expectClean, failure, type Connected } from "../servers/azure-session.ts";
import { createTestPki, type TestPki } from "../servers/tls.ts";

// The source, or the built bundle with SECRETWRAP_TEST_PROVIDERS_FROM, as in azure-session.ts.
const azure = await providerUnderTest("azurekeyvault");

let pki: TestPki;
let fake: AzureFake;
let dir: string;

beforeAll(() => {
  pki = createTestPki();
  dir = mkdtempSync(join(tmpdir(), "secretwrap-azure-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(pki.dir, { recursive: true, force: true });
});

afterEach(async () => {
  await fake?.close();
});

function credentials(): string[] {
  const id = fake.identity;
  return [id.federatedToken, id.clientSecret, id.identityHeader, ...id.tokens.keys()];
}

// Managed identity (msal-node) keeps a process-wide token cache, so its methods have their own files
// (azurekeyvault-msi.test.ts); here: the confidential-client methods and every failure.
const METHODS: readonly AzureMethod[] = ["workloadIdentity", "clientSecret"];

describe.each(METHODS)("azurekeyvault with %s", (method) => {
  it("resolves latest, pinned and JSON secrets with one token request", async () => {
    fake = await AzureFake.start({ pki });
    const v1 = fake.putSecret("db-pass", "CANARY_v1_old");
    const v2 = fake.putSecret("db-pass", "CANARY_v2_latest");
    fake.putSecret("app-json", JSON.stringify({ user: "app", password: "CANARY_json" }), {
      contentType: "application/json",
    });
    const c = await connect(azureSetup(fake, pki, method, dir));
    await expect(c.fetch("ref+azurekeyvault://kv-test/db-pass")).resolves.toEqual({
      text: "CANARY_v2_latest",
      version: v2,
    });
    await expect(c.fetch(`ref+azurekeyvault://kv-test/db-pass/${v1}`)).resolves.toEqual({
      text: "CANARY_v1_old",
      version: v1,
    });
    // #field is the core's job: the provider hands back the whole JSON document.
    const json = await c.fetch("ref+azurekeyvault://kv-test/app-json#password");
    expect(JSON.parse(json.text)).toEqual({ user: "app", password: "CANARY_json" });
    expect(fake.tokenRequests()).toBe(1);
    // The first request carries no token (the challenge), every later one does.
    expect(fake.vault.count(isSecretGet)).toBe(4);
    expect(fake.vault.count(isAuthorizedSecretGet)).toBe(3);
    expect([...fake.identity.tokens.values()].map((t) => t.via)).toEqual([method]);
    for (const token of fake.identity.tokens.keys()) expect(c.masked).toContain(token);
    expect(c.masked).toContain(
      method === "clientSecret" ? fake.identity.clientSecret : fake.identity.federatedToken,
    );
    expect(c.session.consumedEnv).toEqual(method === "clientSecret" ? ["AZURE_CLIENT_SECRET"] : []);
  });

  it("shares one token between vaults and between concurrent first requests", async () => {
    fake = await AzureFake.start({ pki });
    for (let i = 0; i < 12; i++) fake.putSecret(`s${i}`, `CANARY_${i}`);
    const c = await connect(azureSetup(fake, pki, method, dir, ["kv-one", "kv-two"]));
    const refs = Array.from(
      { length: 12 },
      (_, i) => `ref+azurekeyvault://${i % 2 === 0 ? "kv-one" : "kv-two"}/s${i}`,
    );
    const values = await Promise.all(refs.map((r) => c.fetch(r)));
    expect(values.map((v) => v.text)).toEqual(Array.from({ length: 12 }, (_, i) => `CANARY_${i}`));
    expect(fake.tokenRequests()).toBe(1);
  });

  it("asks for the token alongside the first challenge, and sends every other read with it", async () => {
    const latency = 150;
    fake = await AzureFake.start({ pki, latencyMs: latency });
    for (let i = 0; i < 4; i++) fake.putSecret(`s${i}`, `CANARY_${i}`);
    const c = await connect(azureSetup(fake, pki, method, dir));
    await Promise.all([0, 1, 2, 3].map((i) => c.fetch(`ref+azurekeyvault://kv-test/s${i}`)));
    const challenges = fake.vault.requests.filter((r) => !isAuthorizedSecretGet(r));
    const reads = fake.vault.requests.filter(isAuthorizedSecretGet).map((r) => r.time);
    const token = fake.login.requests.find(isTokenRequest);
    expect(challenges).toHaveLength(1);
    expect(reads).toHaveLength(4);
    expect(fake.tokenRequests()).toBe(1);
    // The fake's authority is unknown to MSAL, so its metadata is read first: two round trips to the
    // token request. Had the token waited for the challenge's answer it would arrive a latency later.
    expect((token?.time ?? Infinity) - (challenges[0]?.time ?? 0)).toBeLessThan(latency * 1.6);
    // The other reads start once the first has its token, not after its answer.
    expect(Math.max(...reads) - Math.min(...reads)).toBeLessThan(latency * 0.6);
  });

  it("refuses a token the vault's tenant did not issue, and stops asking after a refusal", async () => {
    fake = await AzureFake.start({ pki });
    fake.putSecret("a", "CANARY_a");
    const setup = azureSetup(fake, pki, method, dir);
    const wrong = method === "clientSecret" ? { AZURE_CLIENT_SECRET: "CANARY_wrong_secret" } : {};
    if (method === "workloadIdentity") fake.identity.federatedToken = "eyJ.other-subject.sig";
    const c = await connect(setup, { ...setup.env, ...wrong });
    const errors = await Promise.all(
      [1, 2, 3].map(() => failure(c.fetchWithRetry("ref+azurekeyvault://kv-test/a"))),
    );
    for (const error of errors) {
      expect(error.code).toBe("AUTH_FAILED");
      expect(error.exitCode).toBe(77);
      expect(error.message).toMatch(
        method === "clientSecret"
          ? /HTTP 401, invalid_client, AADSTS7000215/
          : /HTTP 400, invalid_client, AADSTS700213/,
      );
      expectClean(error, [...credentials(), "CANARY_wrong_secret", "CANARY_a"]);
    }
    expect(fake.login.count(isTokenRequest)).toBe(1);
  });
});

describe("azurekeyvault failures (workload identity)", () => {
  async function world(): Promise<Connected> {
    fake = await AzureFake.start({ pki });
    return connect(azureSetup(fake, pki, "workloadIdentity", dir));
  }

  it("maps a missing secret and a missing version to SECRET_NOT_FOUND without retrying", async () => {
    const c = await world();
    fake.putSecret("there", "CANARY_there");
    const missing = await failure(c.fetchWithRetry("ref+azurekeyvault://kv-test/not-there"));
    expect(missing.code).toBe("SECRET_NOT_FOUND");
    expect(missing.exitCode).toBe(69);
    expect(missing.message).toBe(
      "azurekeyvault: secret not-there in vault kv-test was not found (HTTP 404 SecretNotFound)",
    );
    const version = "0123456789abcdef0123456789abcdef";
    const noVersion = await failure(c.fetchWithRetry(`ref+azurekeyvault://kv-test/there/${version}`));
    expect(noVersion.code).toBe("SECRET_NOT_FOUND");
    expect(noVersion.message).toContain(`secret there version ${version} in vault kv-test`);
    expect(fake.vault.count(isAuthorizedSecretGet)).toBe(2);
  });

  it("maps RBAC denial and a disabled version to ACCESS_DENIED without retrying", async () => {
    const c = await world();
    fake.putSecret("locked", "CANARY_locked");
    fake.denied.add("locked");
    const denied = await failure(c.fetchWithRetry("ref+azurekeyvault://kv-test/locked"));
    expect(denied.code).toBe("ACCESS_DENIED");
    expect(denied.exitCode).toBe(77);
    expect(denied.message).toContain("HTTP 403 Forbidden/ForbiddenByRbac");
    expect(denied.hint).toContain("Key Vault Secrets User");
    // The body names the caller's app id; messages carry the code only.
    expect(denied.message).not.toContain(fake.identity.clientId);
    const version = fake.putSecret("old", "CANARY_old");
    fake.disable("old", version);
    const disabled = await failure(c.fetchWithRetry(`ref+azurekeyvault://kv-test/old/${version}`));
    expect(disabled.code).toBe("ACCESS_DENIED");
    expect(disabled.hint).toContain("disabled");
    expect(fake.vault.count(isAuthorizedSecretGet)).toBe(2);
    expectClean(denied, [...credentials(), "CANARY_locked"]);
  });

  it("refuses a challenge from another tenant before asking for a token", async () => {
    const c = await world();
    fake.putSecret("a", "CANARY_a");
    const other = randomGuid();
    fake.vaultTenant = other;
    const error = await failure(c.fetchWithRetry("ref+azurekeyvault://kv-test/a"));
    expect(error.code).toBe("AUTH_FAILED");
    expect(error.message).toContain(`names tenant ${other}, which`);
    expect(error.hint).toContain("AZURE_TENANT_ID");
    // The token for our own tenant may have been asked for alongside the challenge (never sent):
    // none for the challenge's tenant, and the vault sees no token.
    expect(fake.login.count((r) => isTokenRequest(r) && r.path.includes(other))).toBe(0);
    expect(fake.vault.count(isSecretGet)).toBe(1);
    expect(fake.vault.count(isAuthorizedSecretGet)).toBe(0);
  });

  it("waits for Retry-After on 429 and succeeds", async () => {
    const c = await world();
    fake.putSecret("busy", "CANARY_busy");
    // Prime the token so the scripted replies hit authorised requests.
    fake.putSecret("warm", "x");
    await c.fetch("ref+azurekeyvault://kv-test/warm");
    const throttled = {
      error: {
        code: "Throttled",
        message:
          "Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached",
      },
    };
    fake.vault.script(isAuthorizedSecretGet, [reply(429, throttled, { "retry-after": "1" })]);
    const started = Date.now();
    await expect(c.fetchWithRetry("ref+azurekeyvault://kv-test/busy")).resolves.toMatchObject({
      text: "CANARY_busy",
    });
    const gets = fake.vault.requests.filter(isAuthorizedSecretGet).slice(-2);
    expect((gets[1]?.time ?? 0) - (gets[0]?.time ?? 0)).toBeGreaterThanOrEqual(950);
    expect(Date.now() - started).toBeLessThan(6_000);
  });

  it("classifies 429, 5xx and resets as transient, and retries them to success", async () => {
    const c = await world();
    fake.putSecret("flaky", "CANARY_flaky");
    await failure(c.fetch("ref+azurekeyvault://kv-test/none")); // the challenge and the token
    fake.vault.script(isAuthorizedSecretGet, [
      reply(503, "<html><body>Service Unavailable CANARY_proxy_body</body></html>", {
        "content-type": "text/html",
      }),
      reply(500, { error: { code: "InternalServerError", message: "CANARY_body_text" } }),
      { kind: "resetAfterBytes", bytes: 10 },
      reply(429, { error: { code: "Throttled", message: "slow down" } }),
    ]);
    const attempts: SecretwrapError[] = [];
    for (let i = 0; i < 4; i++) attempts.push(await failure(c.fetch("ref+azurekeyvault://kv-test/flaky")));
    expect(attempts.map((e) => [e.code, e.transient])).toEqual(
      Array.from({ length: 4 }, () => ["FETCH_FAILED", true]),
    );
    expect(attempts[0]?.message).toContain("HTTP 503");
    expect(attempts[1]?.message).toContain("HTTP 500 InternalServerError");
    expect(attempts[3]?.message).toContain("HTTP 429 Throttled");
    for (const e of attempts) expectClean(e, ["CANARY_proxy_body", "CANARY_body_text", ...credentials()]);
    fake.vault.script(isAuthorizedSecretGet, [reply(502), reply(504)]);
    await expect(c.fetchWithRetry("ref+azurekeyvault://kv-test/flaky")).resolves.toMatchObject({
      text: "CANARY_flaky",
    });
  });

  it("ends a hung vault request at the attempt timeout and gives up at the deadline", async () => {
    const c = await world();
    fake.putSecret("slow", "CANARY_slow");
    fake.vault.script(isSecretGet, [{ kind: "hang" }], { forever: true });
    const started = Date.now();
    const error = await failure(c.fetchWithRetry("ref+azurekeyvault://kv-test/slow", 4_000));
    const elapsed = Date.now() - started;
    expect(error.code).toBe("FETCH_TIMEOUT");
    expect(error.exitCode).toBe(69);
    expect(elapsed).toBeGreaterThanOrEqual(3_500);
    expect(elapsed).toBeLessThan(7_000);
    // attempt timeout 3 s, deadline 4 s: a first attempt, then a second cut short by the deadline
    expect(fake.vault.count(isSecretGet)).toBe(2);
  });

  it("retries a token endpoint that fails with 503 or hangs, then logs in", async () => {
    const c = await world();
    fake.putSecret("a", "CANARY_a");
    fake.login.script(isTokenRequest, [
      reply(503, { error: "temporarily_unavailable", error_description: "CANARY_desc" }),
      { kind: "hang" },
    ]);
    const first = await failure(c.fetch("ref+azurekeyvault://kv-test/a"));
    expect([first.code, first.transient]).toEqual(["FETCH_FAILED", true]);
    expect(first.message).toContain("token endpoint is unavailable (HTTP 503");
    expectClean(first, ["CANARY_desc"]);
    await expect(c.fetchWithRetry("ref+azurekeyvault://kv-test/a", 10_000)).resolves.toMatchObject({
      text: "CANARY_a",
    });
    expect(fake.login.count(isTokenRequest)).toBe(3);
  });

  it("an interrupted run's login signal closes the hung token request; the run reports the interruption as before", async () => {
    fake = await AzureFake.start({ pki });
    fake.putSecret("a", "CANARY_a");
    fake.login.script(isTokenRequest, [{ kind: "hang" }]);
    const setup = azureSetup(fake, pki, "workloadIdentity", dir);
    // As src/resolve.ts does: connect and fetch through the retry layer under one run signal. The
    // attempt timeout (and the token request's own, ctx.attemptTimeoutMs) is 10 s, and the session
    // is not closed: only the login's signal can close the token request's socket sooner.
    const policy = { attemptTimeoutMs: 10_000, baseDelayMs: 20, maxDelayMs: 200, random: () => 0.5 };
    const { ctx } = providerContext(setup.env, policy.attemptTimeoutMs);
    const run = new AbortController();
    const cancellation = { signal: run.signal, deadlineAt: performance.now() + 20_000 };
    const session = await withRetry(
      "azurekeyvault login",
      (signal) => azure.connect(setup.options, ctx, signal),
      cancellation,
      policy,
    );
    const ref = parseRef("ref+azurekeyvault://kv-test/a");
    const fetched = withRetry("a", (signal) => session.fetch(ref, signal), cancellation, policy);
    await vi.waitFor(() => expect(fake.login.count(isTokenRequest)).toBe(1));
    run.abort(new Cancelled({ why: "interrupted", by: "SIGTERM" }));
    const error = await failure(fetched);
    expect([error.code, error.exitCode]).toEqual(["INTERRUPTED", 143]);
    await vi.waitFor(() => expect(fake.login.openConnections).toBe(0), { timeout: 2_000 });
    const spans = fake.login.spans
      .filter((s) => isTokenRequest(s.request))
      .map((s) => s.end - s.request.time);
    expect(spans).toHaveLength(1);
    expect(spans[0]).toBeLessThan(1_500);
    await session.close();
  });

  it("fails closed on TLS it cannot verify, without retrying", async () => {
    fake = await AzureFake.start({ pki });
    const setup = azureSetup(fake, pki, "workloadIdentity", dir);
    const c = await connect({ ...setup, options: { ...setup.options, caFile: undefined } });
    const error = await failure(c.fetchWithRetry("ref+azurekeyvault://kv-test/a"));
    expect(error.code).toBe("FETCH_FAILED");
    expect(error.transient).toBe(false);
    expect(error.message).toMatch(
      /TLS verification failed \(SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY\)/,
    );
    expect(error.hint).toContain("caFile");
    expect(fake.vault.requests.length).toBe(0);
  });

  it("keeps challenge resource verification on unless the config turns it off", async () => {
    fake = await AzureFake.start({ pki });
    const setup = azureSetup(fake, pki, "workloadIdentity", dir);
    const c = await connect({
      ...setup,
      options: { ...setup.options, disableChallengeResourceVerification: false },
    });
    const error = await failure(c.fetchWithRetry("ref+azurekeyvault://kv-test/a"));
    expect(error.code).toBe("AUTH_FAILED");
    expect(error.message).toContain("asked for a token for another resource");
    // A token may have been asked for alongside the challenge; the host never receives it.
    expect(fake.vault.count(isSecretGet)).toBe(1);
    expect(fake.vault.count(isAuthorizedSecretGet)).toBe(0);
  });
});

describe("azurekeyvault configuration", () => {
  it("rejects unknown keys and keys the chosen auth method cannot use", () => {
    expect(validateOptions({ vaultUrl: "https://x" })[0]?.path).toEqual([]);
    expect(validateOptions({ auth: { method: "managedIdentity", clientSecretFile: "/x" } })).toEqual([
      { path: ["auth", "clientSecretFile"], message: 'not used by auth method "managedIdentity"' },
    ]);
    expect(validateOptions({ auth: { method: "password" } })[0]?.path).toEqual(["auth", "method"]);
    expect(validateOptions({ auth: { clientId: "a", resourceId: "b" } })[0]?.path).toEqual([
      "auth",
      "resourceId",
    ]);
    expect(
      validateOptions({
        dnsSuffix: "vault.azure.cn",
        auth: { method: "workloadIdentity", tokenFile: "/t" },
      }),
    ).toEqual([]);
  });

  it("picks production credentials only, unless a developer credential is asked for", () => {
    expect(chooseMethod({}, {})).toBe("managedIdentity");
    expect(chooseMethod({}, { AZURE_FEDERATED_TOKEN_FILE: "/t" })).toBe("workloadIdentity");
    expect(chooseMethod({}, { AZURE_CLIENT_SECRET: "s", AZURE_FEDERATED_TOKEN_FILE: "/t" })).toBe(
      "clientSecret",
    );
    expect(chooseMethod({}, { AZURE_TOKEN_CREDENTIALS: "prod" })).toBe("managedIdentity");
    expect(chooseMethod({}, { AZURE_TOKEN_CREDENTIALS: "dev" })).toBe("default");
    expect(chooseMethod({}, { AZURE_TOKEN_CREDENTIALS: "AzureCliCredential" })).toBe("azureCli");
    expect(
      chooseMethod(
        { method: "managedIdentity" },
        { AZURE_FEDERATED_TOKEN_FILE: "/t", AZURE_TOKEN_CREDENTIALS: "dev" },
      ),
    ).toBe("managedIdentity");
  });

  it("derives vault URLs from the name, the cloud's suffix, an endpoint or a per-vault URL", () => {
    expect(vaultUrlFor("My-Vault", {})).toBe("https://my-vault.vault.azure.net");
    expect(vaultUrlFor("kv1", { dnsSuffix: "vault.azure.cn" })).toBe("https://kv1.vault.azure.cn");
    expect(vaultUrlFor("kv1", { endpoint: "https://kv.internal:8443/" })).toBe("https://kv.internal:8443");
    expect(
      vaultUrlFor("kv1", {
        endpoint: "https://kv.internal",
        vaultUrls: { kv1: "https://kv1.privatelink.vaultcore.azure.net" },
      }),
    ).toBe("https://kv1.privatelink.vaultcore.azure.net");
    expect(() => vaultUrlFor("kv1", { endpoint: "http://198.51.100.7" })).toThrow(/refusing http/);
  });

  it("reports missing workload identity settings and plain-HTTP vaults as CONFIG_INVALID before any request", async () => {
    fake = await AzureFake.start({ pki });
    const setup = azureSetup(fake, pki, "workloadIdentity", dir);
    const { AZURE_CLIENT_ID: _clientId, ...noClient } = setup.env;
    const missing = await failure(connect(setup, noClient));
    expect(missing.code).toBe("CONFIG_INVALID");
    expect(missing.message).toBe("azurekeyvault: workloadIdentity needs AZURE_CLIENT_ID");
    const http = await failure(
      connect({ ...setup, options: { ...setup.options, vaultUrls: { "kv-test": "http://198.51.100.7" } } }),
    );
    expect(http.code).toBe("CONFIG_INVALID");
    const authority = await failure(
      connect(setup, { ...setup.env, AZURE_AUTHORITY_HOST: "http://198.51.100.7" }),
    );
    expect(authority.code).toBe("CONFIG_INVALID");
    expect(authority.message).toContain("refusing http://198.51.100.7");
    expect(fake.vault.requests.length + fake.login.requests.length).toBe(0);
  });
});
