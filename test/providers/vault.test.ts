// The Vault provider with the real node-vault over real HTTP: against the fake Vault always, and the
// cases that a dev server can host also against a real Vault when SECRETWRAP_TEST_VAULT_ADDR and
// SECRETWRAP_TEST_VAULT_TOKEN are set.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { provider } from "../../providers/vault.ts";
import { parseRef } from "../../src/config/ref.ts";
import { SecretwrapError } from "../../src/errors.ts";
import type { Logger } from "../../src/log.ts";
import type { Fetched, ProviderContext, Session } from "../../src/provider.ts";
import { withRetry, type RetryPolicy } from "../../src/retry.ts";
import { canary } from "../helpers/canary.ts";
import { FakeVault, RealVault, type VaultBackend } from "../servers/vault.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-vault-provider-"));
let files = 0;
function file(content: string): string {
  const path = join(work, `f${++files}`);
  writeFileSync(path, content);
  return path;
}

interface Harness {
  readonly ctx: ProviderContext;
  readonly masked: string[];
  readonly logs: string[];
}

function harness(env: Record<string, string>, attemptTimeoutMs = 5_000): Harness {
  const masked: string[] = [];
  const logs: string[] = [];
  const push = (msg: string): void => void logs.push(msg);
  const log: Logger = { error: push, warn: push, info: push, debug: push, enabled: () => true };
  return { ctx: { env, log, addSecret: (v) => masked.push(typeof v === "string" ? v : Buffer.from(v).toString()), attemptTimeoutMs }, masked, logs };
}

const FAST: RetryPolicy = { attemptTimeoutMs: 400, baseDelayMs: 20, maxDelayMs: 200, random: () => 0.5 };

function deadline(ms: number) {
  return { signal: AbortSignal.timeout(ms), at: Date.now() + ms, interrupted: () => undefined };
}

/** connect and fetch through the product's one retry layer, as resolve.ts does. */
async function connect(options: object, h: Harness, policy: RetryPolicy = FAST, ms = 5_000): Promise<Session> {
  expect(provider.validateOptions(options)).toEqual([]);
  return withRetry("vault login", (signal) => provider.connect(options, h.ctx, signal), deadline(ms), policy);
}

function fetch(session: Session, raw: string, policy: RetryPolicy = FAST, ms = 5_000): Promise<Fetched> {
  return withRetry(raw, (signal) => session.fetch(parseRef(raw), signal), deadline(ms), policy);
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
    const h = harness({ VAULT_ADDR: vault.url, VAULT_ROLE_ID: role.roleId, VAULT_SECRET_ID: secretId, VAULT_AUTH_MOUNT: role.mount });
    const session = await connect({}, h);
    expect(json(await fetch(session, `ref+vault://${kv2}/app/db`))["password"]).toBe(db);
    await session.close();
    expect(session.consumedEnv).toEqual(["VAULT_ROLE_ID", "VAULT_SECRET_ID"]);
    expect(h.masked).toContain(secretId);
  });

  it("AppRole with a response-wrapped SecretID: looked up, unwrapped once, then logged in", async () => {
    const role = await vault.addAppRole("wrapped", readAll());
    const wrapping = await role.wrappedSecretId();
    const options = { auth: { method: "approle", mount: role.mount, role: "wrapped", roleId: role.roleId, wrappedSecretIdFile: file(`${wrapping}\n`) } };
    const session = await connect(options, harness({ VAULT_ADDR: vault.url }));
    expect(json(await fetch(session, `ref+vault://${kv1}/app/config`))).toEqual({ api_key: api });
    await session.close();
    // Single use: a token that someone else unwrapped first is refused, and the hint says what it means.
    const stolen = await role.wrappedSecretId();
    await globalThis.fetch(`${vault.url}/v1/sys/wrapping/unwrap`, { method: "POST", headers: { "X-Vault-Token": stolen } });
    const again = await failure(connect({ ...options, auth: { ...options.auth, wrappedSecretIdFile: file(stolen) } }, harness({ VAULT_ADDR: vault.url })));
    expect(again.code).toBe("AUTH_FAILED");
    expect(again.message).toContain("wrapping token is not valid or does not exist");
    expect(again.hint).toContain("someone else may have unwrapped it");
    expectClean(again, wrapping, stolen);
  });

  it("a wrong secret_id is AUTH_FAILED (77) and is not retried", async () => {
    const role = await vault.addAppRole("wrong", readAll());
    const wrong = canary("SECRETID");
    const error = await failure(connect({}, harness({ VAULT_ADDR: vault.url, VAULT_ROLE_ID: role.roleId, VAULT_SECRET_ID: wrong, VAULT_AUTH_MOUNT: role.mount })));
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
    const invalid = await failure(connect({}, harness(env(bogus))).then((s) => fetch(s, `ref+vault://${kv2}/app/db`)));
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
    for (const e of [missing, deleted, destroyed, never]) expectClean(e, "gone-value", "still-here", db, token);
    await session.close();
  });
}

const real = RealVault.fromEnv();

describe("vault provider against the fake Vault: shared cases", () => {
  sharedCases(() => FakeVault.start());
});

describe.skipIf(real === undefined)("vault provider against a real Vault (skipped: set SECRETWRAP_TEST_VAULT_ADDR and SECRETWRAP_TEST_VAULT_TOKEN to run)", () => {
  sharedCases(() => Promise.resolve(real as RealVault));
});
