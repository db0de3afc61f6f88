// Azure Key Vault end to end: the built CLI, the real SDKs inside the bundle, HTTPS to the wire-level
// fake (test/servers/azure.ts) with a CA made at test time, and the probe app reporting what it got.
// Issue 6 acceptance: (1) workload and managed identity resolve 20 secrets with one token request;
// (2) not found / forbidden / wrong tenant / throttled / hung end with the documented exit codes
// within the deadline, and no credential or value appears in any output.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { canary, scanForCanaries } from "../helpers/canary.ts";
import { PROBE, pathFor, probeStart, readProbe, runCli, type CliResult } from "../helpers/cli.ts";
import { NODE24, NODES } from "../helpers/nodes.ts";
import { reply } from "../servers/harness.ts";
import { AzureFake, isAuthorizedSecretGet, isSecretGet, randomGuid } from "../servers/azure.ts";
import { azureSetup, fakeAzureCli, type AzureMethod } from "../servers/azure-client.ts";
import { createTestPki, type TestPki } from "../servers/tls.ts";
import { scratchDirs } from "../helpers/scratch.ts";

let pki: TestPki;
let fake: AzureFake;
let work: string;
let scratch: () => string;

beforeAll(() => {
  pki = createTestPki();
  work = mkdtempSync(join(tmpdir(), "secretwrap-e2e-azure-"));
  scratch = scratchDirs(work);
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(pki.dir, { recursive: true, force: true });
});
afterEach(async () => {
  await fake?.close();
});

interface Run {
  readonly result: CliResult;
  readonly probeEnv: Record<string, string> | undefined;
}

/** secretwrap run -- probe, with `declared` as inherited references and the method's env and config. */
async function run(
  method: AzureMethod,
  declared: Record<string, string>,
  options: { args?: string[]; env?: Record<string, string>; node?: typeof NODE24; dir?: string } = {},
): Promise<Run> {
  const dir = options.dir ?? scratch();
  const setup = azureSetup(fake, pki, method, dir);
  const config = join(dir, "secretwrap.json");
  writeFileSync(config, JSON.stringify({ version: 1, providers: { azurekeyvault: setup.options } }));
  const out = join(dir, "probe.jsonl");
  const result = await runCli(
    [
      "run",
      "--config",
      config,
      "--log-level",
      "debug",
      ...(options.args ?? []),
      "--",
      "node",
      PROBE,
      "--exit",
      "0",
    ],
    {
      env: { ...setup.env, ...declared, ...options.env, PROBE_OUT: out },
      cwd: dir,
      timeoutMs: 45_000,
      ...(options.node === undefined ? {} : { node: options.node }),
    },
  );
  const records = readProbe(out);
  return { result, probeEnv: records.length === 0 ? undefined : probeStart(records).env };
}

/** Every credential the fake knows or issued, and the given values: none may appear in any output. */
function expectNoLeak(result: CliResult, values: readonly string[]): void {
  const id = fake.identity;
  const canaries = [id.federatedToken, id.clientSecret, id.identityHeader, ...id.tokens.keys(), ...values];
  expect(scanForCanaries(canaries, { texts: { stdout: result.stdout, stderr: result.stderr } })).toEqual([]);
}

/** 20 declared secrets: 8 latest, 6 pinned versions, 6 JSON fields (of 2 secrets): 16 distinct fetches. */
function twentySecrets(): { declared: Record<string, string>; expected: Record<string, string> } {
  const declared: Record<string, string> = {};
  const expected: Record<string, string> = {};
  for (let i = 0; i < 8; i++) {
    const value = canary(`LATEST${i}`);
    fake.putSecret(`latest-${i}`, canary("OLD"));
    fake.putSecret(`latest-${i}`, value);
    declared[`LATEST_${i}`] = `ref+azurekeyvault://kv-test/latest-${i}`;
    expected[`LATEST_${i}`] = value;
  }
  for (let i = 0; i < 6; i++) {
    const value = canary(`PINNED${i}`);
    const version = fake.putSecret(`pinned-${i}`, value);
    fake.putSecret(`pinned-${i}`, canary("NEWER"));
    declared[`PINNED_${i}`] = `ref+azurekeyvault://kv-test/pinned-${i}/${version}`;
    expected[`PINNED_${i}`] = value;
  }
  for (let j = 0; j < 2; j++) {
    const doc = {
      user: `app${j}`,
      password: canary(`PW${j}`),
      db: { host: `db${j}.internal`, port: 5432 + j },
    };
    fake.putSecret(`json-${j}`, JSON.stringify(doc), { contentType: "application/json" });
    Object.assign(declared, {
      [`JSON_USER_${j}`]: `ref+azurekeyvault://kv-test/json-${j}#user`,
      [`JSON_PASSWORD_${j}`]: `ref+azurekeyvault://kv-test/json-${j}#password`,
      [`JSON_HOST_${j}`]: `ref+azurekeyvault://kv-test/json-${j}#/db/host`,
    });
    Object.assign(expected, {
      [`JSON_USER_${j}`]: doc.user,
      [`JSON_PASSWORD_${j}`]: doc.password,
      [`JSON_HOST_${j}`]: doc.db.host,
    });
  }
  return { declared, expected };
}

describe.each(NODES)("azurekeyvault acceptance 1 under $name", (node) => {
  it.each<AzureMethod>(["workloadIdentity", "appService", "imds"])(
    "resolves 20 secrets with %s and one token request",
    async (method) => {
      fake = await AzureFake.start({ pki });
      const { declared, expected } = twentySecrets();
      const { result, probeEnv } = await run(method, declared, { node });
      expect(result.code, result.stderr).toBe(0);
      for (const [name, value] of Object.entries(expected)) expect(probeEnv?.[name], name).toBe(value);
      expect(fake.tokenRequests()).toBe(1);
      expect(fake.vault.count(isAuthorizedSecretGet)).toBe(16);
      // Only the first request to the vault goes without a token (and collects the 401 challenge).
      expect(fake.vault.count(isSecretGet) - fake.vault.count(isAuthorizedSecretGet)).toBe(1);
      // The audit line names the version served.
      expect(result.stderr).toMatch(/PINNED_0.*version=[0-9a-f]{32}/);
      expectNoLeak(result, Object.values(expected));
    },
  );
});

describe("azurekeyvault acceptance 2 (failures)", () => {
  it("exits 69 for a secret that does not exist, naming it", async () => {
    fake = await AzureFake.start({ pki });
    const value = canary("PRESENT");
    fake.putSecret("present", value);
    const { result, probeEnv } = await run("workloadIdentity", {
      PRESENT: "ref+azurekeyvault://kv-test/present",
      GONE: "ref+azurekeyvault://kv-test/gone",
    });
    expect(result.code).toBe(69);
    expect(probeEnv).toBeUndefined();
    expect(result.stderr).toContain("secret gone in vault kv-test was not found (HTTP 404 SecretNotFound)");
    expectNoLeak(result, [value]);
  });

  // The cap is the core's (src/resolve.ts), for every provider: checked here through the built CLI.
  it("refuses a value over 1 MiB", async () => {
    fake = await AzureFake.start({ pki });
    fake.putSecret("huge", "x".repeat(1024 * 1024 + 1));
    const { result, probeEnv } = await run("workloadIdentity", { HUGE: "ref+azurekeyvault://kv-test/huge" });
    expect(result.code).toBe(69);
    expect(probeEnv).toBeUndefined();
    expect(result.stderr).toContain("larger than 1048576 bytes");
  });

  it("exits 77 when RBAC denies a secret, without retrying it", async () => {
    fake = await AzureFake.start({ pki });
    fake.putSecret("locked", canary("LOCKED"));
    fake.denied.add("locked");
    const { result, probeEnv } = await run("appService", { LOCKED: "ref+azurekeyvault://kv-test/locked" });
    expect(result.code).toBe(77);
    expect(probeEnv).toBeUndefined();
    expect(result.stderr).toContain("HTTP 403 Forbidden/ForbiddenByRbac");
    expect(result.stderr).toContain("Key Vault Secrets User");
    expect(fake.vault.count(isAuthorizedSecretGet)).toBe(1);
    expectNoLeak(result, []);
  });

  it("exits 77 when the vault's challenge names another tenant, before any token request", async () => {
    fake = await AzureFake.start({ pki });
    fake.putSecret("a", canary("A"));
    const other = randomGuid();
    fake.vaultTenant = other;
    const { result } = await run("workloadIdentity", { A: "ref+azurekeyvault://kv-test/a" });
    expect(result.code).toBe(77);
    expect(result.stderr).toContain(`the vault's challenge names tenant ${other}, which`);
    expect(fake.tokenRequests()).toBe(0);
    expectNoLeak(result, []);
  });

  it("exits 77 for a client secret Entra ID refuses, and keeps AZURE_CLIENT_SECRET from the app when it works", async () => {
    fake = await AzureFake.start({ pki });
    const value = canary("CS");
    fake.putSecret("cs", value);
    const wrong = canary("WRONGSECRET");
    const refused = await run(
      "clientSecret",
      { CS: "ref+azurekeyvault://kv-test/cs" },
      { env: { AZURE_CLIENT_SECRET: wrong } },
    );
    expect(refused.result.code).toBe(77);
    expect(refused.result.stderr).toContain("invalid_client, AADSTS7000215");
    expectNoLeak(refused.result, [wrong]);
    const ok = await run("clientSecret", { CS: "ref+azurekeyvault://kv-test/cs" });
    expect(ok.result.code, ok.result.stderr).toBe(0);
    expect(ok.probeEnv?.["CS"]).toBe(value);
    expect(ok.probeEnv).not.toHaveProperty("AZURE_CLIENT_SECRET");
    expect(ok.probeEnv?.["AZURE_CLIENT_ID"]).toBe(fake.identity.clientId);
    expectNoLeak(ok.result, [value]);
  });

  it("waits out a 429 with Retry-After and starts the app", async () => {
    fake = await AzureFake.start({ pki });
    const value = canary("BUSY");
    fake.putSecret("busy", value);
    fake.vault.script(isAuthorizedSecretGet, [
      reply(429, { error: { code: "Throttled", message: "Too many requests" } }, { "retry-after": "1" }),
    ]);
    const { result, probeEnv } = await run("workloadIdentity", { BUSY: "ref+azurekeyvault://kv-test/busy" });
    expect(result.code, result.stderr).toBe(0);
    expect(probeEnv?.["BUSY"]).toBe(value);
    const gets = fake.vault.requests.filter(isAuthorizedSecretGet);
    expect(gets).toHaveLength(2);
    expect((gets[1]?.time ?? 0) - (gets[0]?.time ?? 0)).toBeGreaterThanOrEqual(950);
    expectNoLeak(result, [value]);
  });

  it("exits 69 at the deadline when the vault hangs", async () => {
    fake = await AzureFake.start({ pki });
    fake.putSecret("slow", canary("SLOW"));
    fake.vault.script(isSecretGet, [{ kind: "hang" }], { forever: true });
    const { result, probeEnv } = await run(
      "workloadIdentity",
      { SLOW: "ref+azurekeyvault://kv-test/slow" },
      { args: ["--timeout", "3s", "--attempt-timeout", "1s"] },
    );
    expect(result.code).toBe(69);
    expect(probeEnv).toBeUndefined();
    expect(result.stderr).toContain("gave up at the --timeout deadline");
    // 3 s deadline, plus process start and the SDK load; generous for a loaded 2-core machine.
    expect(result.durationMs).toBeLessThan(9_000);
    expect(fake.vault.count(isSecretGet)).toBeGreaterThanOrEqual(2);
    expectNoLeak(result, []);
  });

  it("exits 69 at the deadline when the managed identity endpoint hangs", async () => {
    fake = await AzureFake.start({ pki });
    fake.putSecret("a", canary("A"));
    fake.msi.script(() => true, [{ kind: "hang" }], { forever: true });
    const { result } = await run(
      "appService",
      { A: "ref+azurekeyvault://kv-test/a" },
      { args: ["--timeout", "3s", "--attempt-timeout", "1s"] },
    );
    expect(result.code).toBe(69);
    expect(result.durationMs).toBeLessThan(9_000);
    expect(fake.msi.requests.length).toBeGreaterThanOrEqual(2);
    expectNoLeak(result, []);
  });

  it("uses the developer's az login only when auth.method says azureCli, and exits 77 without one", async () => {
    fake = await AzureFake.start({ pki });
    const value = canary("DEV");
    fake.putSecret("dev", value);
    const dir = scratch();
    const token = fake.developerToken();
    const bin = fakeAzureCli(dir, token);
    const ok = await run(
      "azureCli",
      { DEV: "ref+azurekeyvault://kv-test/dev" },
      { dir, env: { PATH: `${bin}:${pathFor(NODE24)}` } },
    );
    expect(ok.result.code, ok.result.stderr).toBe(0);
    expect(ok.probeEnv?.["DEV"]).toBe(value);
    const calls = readFileSync(join(dir, "az-calls.log"), "utf8").trim().split("\n");
    expect(calls).toHaveLength(1);
    expect(calls[0]).toContain("account get-access-token");
    expect(calls[0]).toContain(`--tenant ${fake.identity.tenantId}`);
    expectNoLeak(ok.result, [value]);

    const loggedOut = scratch();
    const noLogin = fakeAzureCli(loggedOut, undefined);
    const refused = await run(
      "azureCli",
      { DEV: "ref+azurekeyvault://kv-test/dev" },
      { dir: loggedOut, env: { PATH: `${noLogin}:${pathFor(NODE24)}` } },
    );
    expect(refused.result.code).toBe(77);
    expect(refused.result.stderr).toContain("az login");
    expectNoLeak(refused.result, [value]);
  });

  it("exits 77 when the App Service identity header is wrong, without printing it", async () => {
    fake = await AzureFake.start({ pki });
    fake.putSecret("a", canary("A"));
    const wrongHeader = canary("IDHEADER");
    const { result } = await run(
      "appService",
      { A: "ref+azurekeyvault://kv-test/a" },
      { env: { IDENTITY_HEADER: wrongHeader } },
    );
    expect(result.code).toBe(77);
    expect(result.stderr).toContain("managedIdentity could not get a token (HTTP 401");
    expect(fake.msi.requests).toHaveLength(1);
    expectNoLeak(result, [wrongHeader]);
  });

  it("verifies TLS even with NODE_TLS_REJECT_UNAUTHORIZED=0, and does not retry a certificate failure", async () => {
    fake = await AzureFake.start({ pki });
    fake.putSecret("a", canary("A"));
    const dir = scratch();
    const setup = azureSetup(fake, pki, "workloadIdentity", dir);
    const config = join(dir, "secretwrap.json");
    writeFileSync(
      config,
      JSON.stringify({ version: 1, providers: { azurekeyvault: { ...setup.options, caFile: undefined } } }),
    );
    const result = await runCli(["run", "--config", config, "--", "node", PROBE], {
      env: { ...setup.env, A: "ref+azurekeyvault://kv-test/a", NODE_TLS_REJECT_UNAUTHORIZED: "0" },
      cwd: dir,
    });
    expect(result.code).toBe(69);
    expect(result.stderr).toMatch(
      /TLS verification failed \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)\)/,
    );
    expect(fake.vault.requests).toHaveLength(0);
    expect(result.durationMs).toBeLessThan(5_000);
  });

  it("runs the SDK's DefaultAzureCredential chain only when auth.method is default", async () => {
    fake = await AzureFake.start({ pki });
    const value = canary("CHAIN");
    fake.putSecret("chain", value);
    const dir = scratch();
    const setup = azureSetup(fake, pki, "clientSecret", dir);
    const config = join(dir, "secretwrap.json");
    const options = { ...setup.options, auth: { method: "default", disableInstanceDiscovery: true } };
    writeFileSync(config, JSON.stringify({ version: 1, providers: { azurekeyvault: options } }));
    const out = join(dir, "probe.jsonl");
    const result = await runCli(["run", "--config", config, "--", "node", PROBE, "--exit", "0"], {
      env: { ...setup.env, CHAIN: "ref+azurekeyvault://kv-test/chain", PROBE_OUT: out },
      cwd: dir,
    });
    expect(result.code, result.stderr).toBe(0);
    const env = probeStart(readProbe(out)).env;
    expect(env?.["CHAIN"]).toBe(value);
    expect(env).not.toHaveProperty("AZURE_CLIENT_SECRET");
    expect([...fake.identity.tokens.values()].map((t) => t.via)).toEqual(["clientSecret"]);
    expectNoLeak(result, [value]);
  });
});
