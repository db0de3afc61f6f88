// The Vault provider with the real node-vault over real HTTP: against the fake Vault always, and the
// cases that a dev server can host also against a real Vault when SECRETWRAP_TEST_VAULT_ADDR and
// SECRETWRAP_TEST_VAULT_TOKEN are set.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRef } from "../../src/config/ref.ts";
import { SecretwrapError } from "../../src/errors.ts";
import type { Fetched, Session } from "../../src/provider-api.ts";
import { providerContext, type TestContext } from "../helpers/context.ts";
import { withRetry, type RetryPolicy } from "../../src/retry.ts";
import { canary } from "../helpers/canary.ts";
import { validateOptions } from "../../providers/vault/options.ts";
import { providerUnderTest } from "../helpers/provider-under-test.ts";
import { createTestPki, type TestPki } from "../servers/tls.ts";
import { TestServer } from "../servers/harness.ts";
import { FakeVault, RealVault, vaultError, type VaultBackend } from "../servers/vault.ts";

// The source, or the built bundle with SECRETWRAP_TEST_PROVIDERS_FROM (scripts/test.mjs runs both).
const provider = await providerUnderTest("vault");

const work = mkdtempSync(join(tmpdir(), "secretwrap-vault-provider-"));
let files = 0;
function file(content: string): string {
  const path = join(work, `f${++files}`);
  writeFileSync(path, content);
  return path;
}

type Harness = TestContext;
const harness = providerContext;

const FAST: RetryPolicy = { attemptTimeoutMs: 400, baseDelayMs: 20, maxDelayMs: 200, random: () => 0.5 };

function deadline(ms: number) {
  return { signal: AbortSignal.timeout(ms), deadlineAt: performance.now() + ms };
}

/** connect and fetch through the product's one retry layer, as resolve.ts does. */
async function connect(
  options: object,
  h: Harness,
  policy: RetryPolicy = FAST,
  ms = 5_000,
): Promise<Session> {
  expect(validateOptions(options)).toEqual([]);
  return withRetry("vault login", (signal) => provider.connect(options, h.ctx, signal), deadline(ms), policy);
}

function fetch(session: Session, raw: string, policy: RetryPolicy = FAST, ms = 5_000): Promise<Fetched> {
  return withRetry(raw, (signal) => session.fetch(parseRef(raw), signal), deadline(ms), policy);
}

async function until(condition: () => boolean, ms = 2_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms}ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function json(fetched: Fetched): Record<string, unknown> {
  return JSON.parse(Buffer.from(fetched.bytes).toString("utf8")) as Record<string, unknown>;
}

async function failure(promise: Promise<unknown>): Promise<SecretwrapError> {
  const error: unknown = await promise.then(
    () => new Error("expected a failure"),
    (e: unknown) => e,
  );
  if (!(error instanceof SecretwrapError)) throw error;
  return error;
}

function expectClean(error: SecretwrapError, ...secrets: string[]): void {
  const told = `${error.message}\n${error.hint}`;
  for (const s of secrets) expect(told).not.toContain(s);
}

// ---------------------------------------------------------------------------------------------------
// Cases any Vault can host.

function sharedCases(start: () => Promise<VaultBackend>): void {
  let vault: VaultBackend;
  let kv1: string;
  let kv2: string;
  const db = canary("DBPASS");
  const api = canary("APIKEY");
  const old = canary("OLD");
  beforeAll(async () => {
    vault = await start();
    kv1 = await vault.mountKv("kv1", 1);
    kv2 = await vault.mountKv("kv2", 2);
    await vault.putKv(kv1, "app/config", { api_key: api });
    await vault.putKv(kv2, "app/db", { password: old, user: "app" });
    await vault.putKv(kv2, "app/db", { password: db, user: "app" });
    await vault.putKv(kv2, "app/gone", { password: "gone-value" });
    await vault.putKv(kv2, "app/gone", { password: "still-here" });
    await vault.deleteVersion(kv2, "app/gone", 2);
    await vault.destroyVersion(kv2, "app/gone", 1);
  });
  afterAll(() => vault.close());

  const env = (token: string): Record<string, string> => ({ VAULT_ADDR: vault.url, VAULT_TOKEN: token });
  const readAll = () => [`${kv1}/app/*`, `${kv2}/data/app/*`];

  it("token auth reads KV v1, KV v2 latest and a pinned KV v2 version", async () => {
    const token = await vault.createToken(readAll());
    const h = harness(env(token));
    const session = await connect({}, h);
    try {
      const v1 = await fetch(session, `ref+vault://${kv1}/app/config`);
      expect(json(v1)).toEqual({ api_key: api });
      expect(v1.keyValueMap).toBe(true);
      const latest = await fetch(session, `ref+vault://${kv2}/app/db`);
      expect(json(latest)).toEqual({ password: db, user: "app" });
      expect(latest.version).toBe("2");
      const pinned = await fetch(session, `ref+vault://${kv2}/app/db?version=1`);
      expect(json(pinned)["password"]).toBe(old);
      expect(pinned.version).toBe("1");
    } finally {
      await session.close();
    }
    expect(session.consumedEnv).toEqual(["VAULT_TOKEN"]);
    expect(h.masked).toContain(token);
  });

  it("AppRole logs in with role_id and secret_id", async () => {
    const role = await vault.addAppRole("reader", readAll());
    const secretId = await role.secretId();
    const h = harness({
      VAULT_ADDR: vault.url,
      VAULT_ROLE_ID: role.roleId,
      VAULT_SECRET_ID: secretId,
      VAULT_AUTH_MOUNT: role.mount,
    });
    const session = await connect({}, h);
    expect(json(await fetch(session, `ref+vault://${kv2}/app/db`))["password"]).toBe(db);
    await session.close();
    expect(session.consumedEnv).toEqual(["VAULT_ROLE_ID", "VAULT_SECRET_ID"]);
    expect(h.masked).toContain(secretId);
  });

  it("AppRole with a response-wrapped SecretID: looked up, unwrapped once, then logged in", async () => {
    const role = await vault.addAppRole("wrapped", readAll());
    const wrapping = await role.wrappedSecretId();
    const options = {
      auth: {
        method: "approle",
        mount: role.mount,
        role: "wrapped",
        roleId: role.roleId,
        wrappedSecretIdFile: file(`${wrapping}\n`),
      },
    };
    const session = await connect(options, harness({ VAULT_ADDR: vault.url }));
    expect(json(await fetch(session, `ref+vault://${kv1}/app/config`))).toEqual({ api_key: api });
    await session.close();
    // Single use: a token that someone else unwrapped first is refused, and the hint says what it means.
    const stolen = await role.wrappedSecretId();
    await globalThis.fetch(`${vault.url}/v1/sys/wrapping/unwrap`, {
      method: "POST",
      headers: { "X-Vault-Token": stolen },
    });
    const again = await failure(
      connect(
        { ...options, auth: { ...options.auth, wrappedSecretIdFile: file(stolen) } },
        harness({ VAULT_ADDR: vault.url }),
      ),
    );
    expect(again.code).toBe("AUTH_FAILED");
    expect(again.message).toContain("wrapping token is not valid or does not exist");
    expect(again.hint).toContain("someone else may have unwrapped it");
    expectClean(again, wrapping, stolen);
  });

  it("a wrong secret_id is AUTH_FAILED (77) and is not retried", async () => {
    const role = await vault.addAppRole("wrong", readAll());
    const wrong = canary("SECRETID");
    const error = await failure(
      connect(
        {},
        harness({
          VAULT_ADDR: vault.url,
          VAULT_ROLE_ID: role.roleId,
          VAULT_SECRET_ID: wrong,
          VAULT_AUTH_MOUNT: role.mount,
        }),
      ),
    );
    expect(error.code).toBe("AUTH_FAILED");
    expect(error.exitCode).toBe(77);
    expect(error.transient).toBe(false);
    expect(error.message).toContain("invalid role or secret ID");
    expectClean(error, wrong, role.roleId);
  });

  it("policy denial is ACCESS_DENIED with the policy to grant; an invalid token is AUTH_FAILED", async () => {
    const token = await vault.createToken([`${kv2}/data/app/db`]);
    const session = await connect({}, harness(env(token)));
    const denied = await failure(fetch(session, `ref+vault://${kv2}/app/other`));
    expect(denied.code).toBe("ACCESS_DENIED");
    expect(denied.hint).toContain(`path "${kv2}/data/app/other"`);
    await session.close();
    const bogus = `hvs.${canary("TOKEN")}`;
    const invalid = await failure(
      connect({}, harness(env(bogus))).then((s) => fetch(s, `ref+vault://${kv2}/app/db`)),
    );
    expect(invalid.code).toBe("AUTH_FAILED");
    expectClean(invalid, bogus);
  });

  it("missing paths, deleted, destroyed and never-written versions are SECRET_NOT_FOUND naming the version", async () => {
    const token = await vault.createToken(readAll());
    const session = await connect({}, harness(env(token)));
    const missing = await failure(fetch(session, `ref+vault://${kv2}/app/nope`));
    expect([missing.code, missing.exitCode]).toEqual(["SECRET_NOT_FOUND", 69]);
    const missingV1 = await failure(fetch(session, `ref+vault://${kv1}/app/nope`));
    expect(missingV1.code).toBe("SECRET_NOT_FOUND");
    const deleted = await failure(fetch(session, `ref+vault://${kv2}/app/gone`));
    expect(deleted.code).toBe("SECRET_NOT_FOUND");
    expect(deleted.message).toMatch(/latest version \(2\) of .*app\/gone was deleted at/);
    expect(deleted.hint).toContain("vault kv undelete -versions=2");
    const destroyed = await failure(fetch(session, `ref+vault://${kv2}/app/gone?version=1`));
    expect(destroyed.message).toMatch(/version 1 of .*app\/gone is destroyed/);
    const never = await failure(fetch(session, `ref+vault://${kv2}/app/db?version=9`));
    expect(never.message).toContain("version 9 of");
    const v1version = await failure(fetch(session, `ref+vault://${kv1}/app/config?version=1`));
    expect(v1version.code).toBe("REF_INVALID");
    for (const e of [missing, deleted, destroyed, never])
      expectClean(e, "gone-value", "still-here", db, token);
    await session.close();
  });
}

const real = RealVault.fromEnv();

describe("vault provider against the fake Vault: shared cases", () => {
  sharedCases(() => FakeVault.start());
});

describe.skipIf(real === undefined)(
  "vault provider against a real Vault (skipped: set SECRETWRAP_TEST_VAULT_ADDR and SECRETWRAP_TEST_VAULT_TOKEN to run)",
  () => {
    sharedCases(() => Promise.resolve(real as RealVault));
  },
);

// ---------------------------------------------------------------------------------------------------
// Cases only the fake can host: Kubernetes and JWT trust, dynamic secrets, namespaces, faults.

describe("vault provider against the fake Vault: logins", () => {
  let vault: FakeVault;
  const value = canary("VALUE");
  beforeAll(async () => {
    vault = await FakeVault.start();
    await vault.mountKv("secret", 2);
    await vault.putKv("secret", "app/db", { password: value });
  });
  afterAll(() => vault.close());
  const policy = ["secret/data/app/*"];

  it("Kubernetes: re-reads the service-account token file on every login attempt", async () => {
    vault.addJwtRole(
      "kubernetes",
      "app",
      { "kubernetes.io/serviceaccount/service-account.name": "app" },
      policy,
    );
    const stale = vault.issueJwt({ "kubernetes.io/serviceaccount/service-account.name": "app" }, -60);
    const fresh = vault.issueJwt({ "kubernetes.io/serviceaccount/service-account.name": "app" });
    const jwtFile = file(stale);
    // The first attempt hits a 503; before the retry the kubelet has rotated the token.
    vault.server.script((r) => r.path === "/v1/auth/kubernetes/login", [vaultError(503, "Vault is sealed")]);
    const h = harness({ VAULT_ADDR: vault.url });
    const before = vault.count("auth/kubernetes/login");
    const policyWithRotation: RetryPolicy = { ...FAST, random: () => (writeFileSync(jwtFile, fresh), 0.5) };
    const session = await connect(
      { auth: { method: "kubernetes", role: "app", jwtFile } },
      h,
      policyWithRotation,
    );
    expect(json(await fetch(session, "ref+vault://secret/app/db"))).toEqual({ password: value });
    await session.close();
    const logins = vault.server.requests.filter((r) => r.path === "/v1/auth/kubernetes/login").slice(before);
    expect(logins.map((r) => (JSON.parse(r.body) as { jwt: string }).jwt)).toEqual([stale, fresh]);
    expect(h.masked).toContain(fresh);
    expect(session.consumedEnv).toEqual([]);
  });

  it("Kubernetes: a rejected service-account token is AUTH_FAILED with a hint about the role binding", async () => {
    vault.addJwtRole("kubernetes", "bound", { "kubernetes.io/serviceaccount/namespace": "prod" }, policy);
    const jwt = vault.issueJwt({ "kubernetes.io/serviceaccount/namespace": "dev" });
    const error = await failure(
      connect(
        { auth: { method: "kubernetes", role: "bound", jwtFile: file(jwt) } },
        harness({ VAULT_ADDR: vault.url }),
      ),
    );
    expect(error.code).toBe("AUTH_FAILED");
    expect(error.message).toContain("(403 (service account or namespace not authorized for this role))");
    expectClean(error, jwt);
  });

  it("JWT: from VAULT_JWT (consumed), with a custom mount; an expired JWT is AUTH_FAILED", async () => {
    vault.addJwtRole("jwt", "ci", { aud: "vault" }, policy, { mount: "gitlab" });
    const jwt = vault.issueJwt({ aud: "vault", sub: "project" });
    const h = harness({
      VAULT_ADDR: vault.url,
      VAULT_AUTH_METHOD: "jwt",
      VAULT_ROLE: "ci",
      VAULT_AUTH_MOUNT: "gitlab",
      VAULT_JWT: jwt,
    });
    const session = await connect({}, h);
    expect(json(await fetch(session, "ref+vault://secret/app/db"))).toEqual({ password: value });
    await session.close();
    expect(session.consumedEnv).toEqual(["VAULT_JWT"]);
    expect(vault.count("auth/gitlab/login")).toBe(1);
    const expired = vault.issueJwt({ aud: "vault" }, -5);
    const error = await failure(
      connect(
        {},
        harness({
          VAULT_ADDR: vault.url,
          VAULT_AUTH_METHOD: "jwt",
          VAULT_ROLE: "ci",
          VAULT_AUTH_MOUNT: "gitlab",
          VAULT_JWT: expired,
        }),
      ),
    );
    expect([error.code, error.transient]).toEqual(["AUTH_FAILED", false]);
    expect(error.message).toContain("the JWT is expired");
    expectClean(error, expired);
  });

  it("a wrapped SecretID is unwrapped once even when the login after it is retried", async () => {
    const role = await vault.addAppRole("retry", policy);
    const wrapping = await role.wrappedSecretId();
    vault.server.script((r) => r.path === "/v1/auth/approle/login", [vaultError(502)]);
    const session = await connect(
      { auth: { method: "approle", roleId: role.roleId, wrappedSecretIdFile: file(wrapping) } },
      harness({ VAULT_ADDR: vault.url }),
    );
    await session.close();
    expect(vault.count("sys/wrapping/unwrap")).toBe(1);
    expect(vault.count("sys/wrapping/lookup")).toBe(1);
  });

  it("an unwrapped SecretID is the run's: another run with the same used wrapping token does not get it", async () => {
    const role = await vault.addAppRole("reuse", policy);
    const options = {
      auth: {
        method: "approle",
        roleId: role.roleId,
        wrappedSecretIdFile: file(await role.wrappedSecretId()),
      },
    };
    await (await connect(options, harness({ VAULT_ADDR: vault.url }))).close();
    const looked = vault.count("sys/wrapping/lookup");
    const again = await failure(connect(options, harness({ VAULT_ADDR: vault.url })));
    expect([again.code, again.hint]).toEqual([
      "AUTH_FAILED",
      expect.stringContaining("someone else may have unwrapped it"),
    ]);
    // Asked Vault again (the token is spent), instead of logging in with the first run's SecretID.
    expect(vault.count("sys/wrapping/lookup")).toBe(looked + 1);
  });

  it("a wrapping token not made by the AppRole's secret-id endpoint is refused before unwrapping", async () => {
    const role = await vault.addAppRole("checked", policy);
    const forged = vault.wrap(vault.ns(), "sys/wrapping/wrap", { data: { secret_id: "attacker-chosen" } });
    const before = vault.count("sys/wrapping/unwrap");
    const error = await failure(
      connect(
        {
          auth: {
            method: "approle",
            role: "checked",
            roleId: role.roleId,
            wrappedSecretIdFile: file(forged),
          },
        },
        harness({ VAULT_ADDR: vault.url }),
      ),
    );
    expect(error.code).toBe("AUTH_FAILED");
    expect(error.message).toContain("creation path sys/wrapping/wrap");
    expect(vault.count("sys/wrapping/unwrap")).toBe(before);
    expectClean(error, forged);
  });

  it("chooses the method: VAULT_TOKEN + VAULT_ROLE_ID together needs VAULT_AUTH_METHOD; bad options are reported", async () => {
    const both = await failure(
      connect({}, harness({ VAULT_ADDR: vault.url, VAULT_TOKEN: "t0ken-value", VAULT_ROLE_ID: "r" })),
    );
    expect([both.code, both.exitCode]).toEqual(["CONFIG_INVALID", 78]);
    expect(both.hint).toContain("VAULT_AUTH_METHOD");
    const none = await failure(connect({}, harness({ VAULT_ADDR: vault.url })));
    expect(none.message).toContain("no Vault credentials");
    expect(validateOptions({ adress: "x" })[0]?.path).toEqual([]);
    expect(validateOptions({ auth: { method: "ldap" } })[0]?.path).toEqual(["auth", "method"]);
    expect(validateOptions({ auth: { secretId: "a", secretIdFile: "b" } })).toEqual([
      { path: ["auth", "secretIdFile"], message: "give secretId or secretIdFile, not both" },
    ]);
  });
});

describe("vault provider against the fake Vault: engines and namespaces", () => {
  let vault: FakeVault;
  beforeAll(async () => {
    vault = await FakeVault.start();
  });
  afterAll(() => vault.close());

  it("database/creds is read as is; its lease goes to Fetched.lease, its path to the audit facts", async () => {
    const password = canary("DYNAMIC");
    vault.mountDatabase().set("app", () => ({ username: "v-app-1", password }));
    const h = harness({
      VAULT_ADDR: vault.url,
      VAULT_TOKEN: await vault.createToken(["database/creds/app"]),
    });
    const session = await connect({}, h);
    const fetched = await fetch(session, "ref+vault://database/creds/app");
    await session.close();
    expect(json(fetched)).toEqual({ username: "v-app-1", password });
    expect(fetched.keyValueMap).toBe(true);
    // The audit line names the lease's path only: the id is a handle on the credentials (masked).
    expect(fetched.audit?.["lease_id"]).toBe("database/creds/app/…");
    expect(fetched.audit?.["lease_duration"]).toBe("3600s");
    expect(fetched.lease).toEqual({
      id: expect.stringMatching(/^database\/creds\/app\/.+/) as unknown,
      durationSec: 3600,
      renewable: true,
    });
    expect(h.masked).toContain(fetched.lease?.id);
    expect(h.masked).toContain(password);
  });

  it("asks for a mount's type once, however many secrets are read from it concurrently", async () => {
    await vault.mountKv("team/kv", 2);
    for (let i = 0; i < 6; i++) await vault.putKv("team/kv", `s${i}`, { v: `value-${i}` });
    const session = await connect({}, harness({ VAULT_ADDR: vault.url, VAULT_TOKEN: vault.rootToken }));
    const before = vault.server.count((r) => r.path.startsWith("/v1/sys/internal/ui/mounts/"));
    const values = await Promise.all(
      [0, 1, 2, 3, 4, 5].map(async (i) => json(await fetch(session, `ref+vault://team/kv/s${i}`))["v"]),
    );
    await session.close();
    expect(values).toEqual([0, 1, 2, 3, 4, 5].map((i) => `value-${i}`));
    expect(vault.server.count((r) => r.path.startsWith("/v1/sys/internal/ui/mounts/")) - before).toBe(1);
    expect(vault.count("team/kv/data/s3")).toBe(1);
  });

  it("namespaces: VAULT_NAMESPACE goes in X-Vault-Namespace on the login and the reads", async () => {
    const ns = "team-a/";
    await vault.mountKv("secret", 1, ns);
    await vault.putKv("secret", "svc", { key: "in-namespace" }, ns);
    const role = await vault.addAppRole("svc", ["secret/svc"], { namespace: ns });
    const secretId = await role.secretId();
    const session = await connect(
      { namespace: ns, auth: { roleId: role.roleId, secretId } },
      harness({ VAULT_ADDR: vault.url }),
    );
    expect(json(await fetch(session, "ref+vault://secret/svc"))).toEqual({ key: "in-namespace" });
    await session.close();
    const sent = vault.server.requests.filter(
      (r) => r.path.includes("secret/svc") || r.path.includes("approle/login"),
    );
    expect(sent.length).toBeGreaterThanOrEqual(2);
    for (const r of sent) expect(r.headers["x-vault-namespace"]).toBe(ns);
  });

  it("revokeToken: true revokes the login token in close()", async () => {
    const token = await vault.createToken(["*"]);
    await vault.mountKv("rv", 1);
    await vault.putKv("rv", "x", { a: "b" });
    const session = await connect(
      { revokeToken: true },
      harness({ VAULT_ADDR: vault.url, VAULT_TOKEN: token }),
    );
    await fetch(session, "ref+vault://rv/x");
    await session.close();
    expect(vault.count("auth/token/revoke-self", "POST")).toBe(1);
    const after = await globalThis.fetch(`${vault.url}/v1/auth/token/lookup-self`, {
      headers: { "X-Vault-Token": token },
    });
    expect(after.status).toBe(403);
  });
});

describe("vault provider against the fake Vault: transport and faults", () => {
  let vault: FakeVault;
  let pki: TestPki;
  const value = canary("VALUE");
  beforeAll(async () => {
    pki = createTestPki();
    vault = await FakeVault.start({ tls: pki.valid });
    await vault.mountKv("secret", 2);
    await vault.putKv("secret", "app", { password: value });
  });
  afterAll(() => vault.close());
  const env = (extra: Record<string, string> = {}) => ({
    VAULT_ADDR: vault.url,
    VAULT_CACERT: pki.caFile,
    VAULT_TOKEN: vault.rootToken,
    ...extra,
  });
  const ref = "ref+vault://secret/app";

  it("verifies TLS with VAULT_CACERT; without it, or with a wrong name or expired certificate, fails for good", async () => {
    const session = await connect({}, harness(env()));
    expect(json(await fetch(session, ref))).toEqual({ password: value });
    await session.close();
    const noCa = await connect({}, harness(env({ VAULT_CACERT: "" })));
    const unknown = await failure(fetch(noCa, ref));
    await noCa.close();
    expect([unknown.code, unknown.transient]).toEqual(["FETCH_FAILED", false]);
    expect(unknown.message).toMatch(/https:\/\/127\.0\.0\.1:\d+: TLS verification failed \(\w+\)/);
    for (const cert of [pki.wrongName, pki.expired]) {
      const bad = await FakeVault.start({ tls: cert });
      const s = await connect(
        {},
        harness({ VAULT_ADDR: bad.url, VAULT_CACERT: pki.caFile, VAULT_TOKEN: bad.rootToken }),
      );
      const error = await failure(fetch(s, ref));
      await s.close();
      await bad.close();
      expect(error.message).toContain("TLS verification");
      expect(bad.server.requests).toHaveLength(0);
    }
  });

  it("VAULT_SKIP_VERIFY does not turn verification off (and says so)", async () => {
    const h = harness(env({ VAULT_CACERT: "", VAULT_SKIP_VERIFY: "true" }));
    const session = await connect({}, h);
    const error = await failure(fetch(session, ref));
    await session.close();
    expect(error.message).toContain("TLS verification");
    expect(h.logs.join("\n")).toContain("VAULT_SKIP_VERIFY is ignored");
  });

  it("plain http:// to a non-loopback address is refused, with how to allow it", async () => {
    const error = await failure(
      connect({}, harness({ VAULT_ADDR: "http://198.51.100.7:8200", VAULT_TOKEN: "x-token" })),
    );
    expect([error.code, error.exitCode]).toEqual(["CONFIG_INVALID", 78]);
    expect(error.hint).toContain("allowHttp: true");
    // Token auth makes no request at login, so the explicit opt-in is visible without a network.
    const allowed = await provider.connect(
      { allowHttp: true },
      harness({ VAULT_ADDR: "http://198.51.100.7:8200", VAULT_TOKEN: "x-token" }).ctx,
      AbortSignal.timeout(1000),
    );
    await allowed.close();
  });

  it("sealed, 429 and 5xx are transient; Retry-After is honoured", async () => {
    const session = await connect({}, harness(env()));
    vault.sealed = true;
    const sealed = await failure(session.fetch(parseRef(ref), AbortSignal.timeout(2000)));
    expect([sealed.code, sealed.transient]).toEqual(["FETCH_FAILED", true]);
    expect(sealed.message).toContain("Vault is sealed");
    vault.sealed = false;
    vault.server.script(
      (r) => r.path.startsWith("/v1/secret/data/app"),
      [
        {
          kind: "reply",
          reply: {
            status: 429,
            body: { errors: ["rate limit quota exceeded"] },
            headers: { "retry-after": "1" },
          },
        },
      ],
    );
    const throttled = await failure(session.fetch(parseRef(ref), AbortSignal.timeout(2000)));
    expect([throttled.transient, throttled.retryAfterMs]).toEqual([true, 1000]);
    vault.server.script(
      (r) => r.path.startsWith("/v1/secret/data/app"),
      [vaultError(500), vaultError(502), vaultError(503, "Vault is sealed")],
    );
    const started = Date.now();
    expect(json(await fetch(session, ref))).toEqual({ password: value });
    expect(Date.now() - started).toBeLessThan(3000);
    await session.close();
  });

  it("a hang and a slow body are cut at the per-attempt timeout and retried; a reset is retried", async () => {
    const session = await connect({}, harness(env()));
    for (const fault of [
      { kind: "hang" as const },
      { kind: "trickle" as const, ms: 300 },
      { kind: "reset" as const },
      { kind: "resetAfterBytes" as const, bytes: 20 },
    ]) {
      vault.server.clearFaults();
      vault.server.script((r) => r.path.startsWith("/v1/secret/data/app"), [fault]);
      const before = vault.count("secret/data/app");
      const started = Date.now();
      expect(json(await fetch(session, ref)), fault.kind).toEqual({ password: value });
      expect(vault.count("secret/data/app") - before, fault.kind).toBe(2);
      // One attempt timeout (400 ms) plus a short backoff, with generous room for a busy machine.
      expect(Date.now() - started, fault.kind).toBeLessThan(2500);
      // The abandoned attempt's socket was closed, not left hanging: only the keep-alive one remains.
      await until(() => vault.server.openConnections <= 1);
    }
    await session.close();
  });

  it("a 307 to another port is refused before any request reaches it; a 307 within the origin is followed", async () => {
    const other = await FakeVault.start({ tls: pki.valid });
    const standby = await FakeVault.start({ tls: pki.valid });
    standby.standbyFor = other.url;
    const session = await connect(
      {},
      harness({ VAULT_ADDR: standby.url, VAULT_CACERT: pki.caFile, VAULT_TOKEN: vault.rootToken }),
    );
    const error = await failure(fetch(session, ref));
    await session.close();
    expect([error.code, error.transient]).toEqual(["FETCH_FAILED", false]);
    expect(error.message).toContain(`redirected sys/internal/ui/mounts/secret/app to ${other.url}`);
    expect(other.server.requests).toHaveLength(0);
    expect(standby.server.requests).toHaveLength(1);
    await other.close();
    await standby.close();
    vault.server.clearFaults();
    vault.server.script(
      (r) => r.path === "/v1/secret/data/app",
      [
        {
          kind: "reply",
          reply: { status: 307, headers: { location: `${vault.url}/v1/secret/data/app?redirected=1` } },
        },
      ],
    );
    const same = await connect({}, harness(env()));
    expect(json(await fetch(same, ref))).toEqual({ password: value });
    await same.close();
    const followed = vault.server.requests.filter((r) => r.path === "/v1/secret/data/app?redirected=1");
    expect(followed.at(-1)?.headers["x-vault-token"]).toBe(vault.rootToken);
  });

  it("a connection refused is transient and names the address; error bodies never reach messages", async () => {
    const closed = await TestServer.start({ handler: () => ({ status: 200 }) });
    const url = closed.url;
    await closed.close();
    const session = await connect({}, harness({ VAULT_ADDR: url, VAULT_TOKEN: "tok-value" }));
    const refused = await failure(session.fetch(parseRef(ref), AbortSignal.timeout(2000)));
    await session.close();
    expect([refused.transient, refused.message]).toEqual([
      true,
      expect.stringContaining(`${url}: connection refused (ECONNREFUSED)`) as unknown,
    ]);
    const leak = canary("BODY");
    vault.server.clearFaults();
    vault.server.script(
      (r) => r.path.startsWith("/v1/secret/data/app"),
      [
        vaultError(400, `bad request ${leak}`),
        vaultError(403, `permission denied ${leak}`),
        { kind: "reply", reply: { status: 502, body: `<html>${leak}</html>` } },
      ],
    );
    const s = await connect({}, harness(env()));
    for (let i = 0; i < 3; i++) {
      const e = await failure(s.fetch(parseRef(ref), AbortSignal.timeout(2000)));
      expectClean(e, leak);
      expect(JSON.stringify(e)).not.toContain(leak);
    }
    await s.close();
  });

  it("an answer larger than the limit is refused, not truncated", async () => {
    await vault.putKv("secret", "huge", { blob: "x".repeat(5 * 1024 * 1024) });
    const session = await connect({}, harness(env()));
    const error = await failure(
      session.fetch(parseRef("ref+vault://secret/huge"), AbortSignal.timeout(5000)),
    );
    await session.close();
    expect([error.message, error.transient]).toEqual([
      expect.stringContaining("larger than") as unknown,
      false,
    ]);
  });
});

describe("vault provider against the fake Vault: token expiry and answers that are not Vault's", () => {
  let vault: FakeVault;
  const values = [canary("ONE"), canary("TWO"), canary("THREE")];
  beforeAll(async () => {
    vault = await FakeVault.start();
    await vault.mountKv("secret", 2);
    for (const [i, v] of values.entries()) await vault.putKv("secret", `exp/s${i}`, { value: v });
  });
  afterAll(() => vault.close());
  const policy = ["secret/data/exp/*"];
  const refs = values.map((_, i) => `ref+vault://secret/exp/s${i}`);

  it("a login token rejected mid-run: concurrent reads share one new login, each read is retried once", async () => {
    const role = await vault.addAppRole("exp", policy, { mount: "approle-exp" });
    const h = harness({
      VAULT_ADDR: vault.url,
      VAULT_ROLE_ID: role.roleId,
      VAULT_SECRET_ID: await role.secretId(),
      VAULT_AUTH_MOUNT: "approle-exp",
    });
    const session = await connect({}, h);
    try {
      await fetch(session, refs[0] as string); // the mount is known now
      // The next three reads all meet a rejected token, as after an expiry or revocation.
      vault.server.script(
        (r) => r.path.startsWith("/v1/secret/data/exp/"),
        [1, 2, 3].map(() => vaultError(403, "permission denied", "invalid token")),
      );
      const logins = vault.count("auth/approle-exp/login");
      const got = await Promise.all(refs.map((r) => session.fetch(parseRef(r), AbortSignal.timeout(3000))));
      expect(got.map((f) => json(f)["value"])).toEqual(values);
      expect(vault.count("auth/approle-exp/login") - logins).toBe(1);
    } finally {
      await session.close();
    }
  });

  it("a static token rejected mid-run is AUTH_FAILED at once, with no login", async () => {
    const token = await vault.createToken(policy);
    const session = await connect({}, harness({ VAULT_ADDR: vault.url, VAULT_TOKEN: token }));
    try {
      vault.server.script((r) => r.path === "/v1/secret/data/exp/s1", [vaultError(403, "invalid token")]);
      const error = await failure(session.fetch(parseRef(refs[1] as string), AbortSignal.timeout(3000)));
      expect([error.code, error.transient]).toEqual(["AUTH_FAILED", false]);
      expect(error.message).toContain("invalid token: expired or revoked");
    } finally {
      await session.close();
    }
  });

  it.each([
    { name: "an empty 200", reply: { status: 200, body: "" } },
    {
      name: "a truncated 200",
      reply: { status: 200, body: '{"data":{"data":', headers: { "content-type": "application/json" } },
    },
    {
      name: "a 200 HTML page",
      reply: { status: 200, body: "<html>LEAK</html>", headers: { "content-type": "text/html" } },
    },
    {
      name: "a 200 JSON array",
      reply: { status: 200, body: "[]", headers: { "content-type": "application/json" } },
    },
  ])(
    "$name is a transient FETCH_FAILED (never SECRET_NOT_FOUND, which `optional` would tolerate)",
    async ({ reply }) => {
      const token = await vault.createToken(policy);
      const session = await connect({}, harness({ VAULT_ADDR: vault.url, VAULT_TOKEN: token }));
      try {
        await fetch(session, refs[2] as string);
        const leak = canary("BODY");
        const body = reply.body.replace("LEAK", leak);
        vault.server.script(
          (r) => r.path === "/v1/secret/data/exp/s2",
          [{ kind: "reply", reply: { ...reply, body } }],
        );
        const error = await failure(session.fetch(parseRef(refs[2] as string), AbortSignal.timeout(3000)));
        expect([error.code, error.transient]).toEqual(["FETCH_FAILED", true]);
        expect(error.message).toContain("with a body that is not a JSON object");
        expectClean(error, leak);
      } finally {
        await session.close();
      }
    },
  );
});
