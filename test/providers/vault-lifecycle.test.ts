// The Vault provider's lifecycle capabilities (--watch, issue 15) with the real node-vault over real
// HTTP against the fake Vault's real lease semantics (test/servers/vault-lifecycle.ts): leases and tokens
// that really expire, renewals capped at the max TTL, refusals, revocations, KV v2 versions. Every
// credential the server handed out is looked for in every log line and error at the end.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRef } from "../../src/config/ref.ts";
import { SecretwrapError } from "../../src/errors.ts";
import type { Fetched, Lease, Session } from "../../src/provider-api.ts";
import { canary, canaryPattern } from "../helpers/canary.ts";
import { providerContext, type TestContext } from "../helpers/context.ts";
import { providerUnderTest } from "../helpers/provider-under-test.ts";
import { DESCRIPTORS } from "../../providers/registry.ts";
import { apiPath, FakeVault } from "../servers/vault.ts";

const provider = await providerUnderTest("vault");

const work = mkdtempSync(join(tmpdir(), "secretwrap-vault-lifecycle-"));
let files = 0;
function file(content: string): string {
  const path = join(work, `f${++files}`);
  writeFileSync(path, content);
  return path;
}

/** Errors the provider gave, and every context (its log lines), checked for credentials at the end. */
const told: string[] = [];
const contexts: TestContext[] = [];
/** Credentials and secrets the tests planted (canaries, JWTs, SecretIDs, tokens). */
const planted: string[] = [];

function harness(env: Record<string, string>): TestContext {
  const h = providerContext(env);
  contexts.push(h);
  return h;
}

const signal = (): AbortSignal => AbortSignal.timeout(5_000);

const LIFECYCLE = ["checkVersion", "renew", "revoke", "tokenLifetime", "renewToken", "revokeToken"] as const;
type Lifecycle = Session & Required<Pick<Session, (typeof LIFECYCLE)[number]>>;

/** A session with every lifecycle capability (the descriptor declares them all). */
async function connect(options: object, h: TestContext): Promise<Lifecycle> {
  const session = await provider.connect(options, h.ctx, signal());
  for (const name of LIFECYCLE) if (typeof session[name] !== "function") throw new Error(`no ${name}`);
  return session as Lifecycle;
}

function fetch(session: Session, raw: string): Promise<Fetched> {
  return session.fetch(parseRef(raw), signal());
}

function json(fetched: Fetched): Record<string, string> {
  return JSON.parse(Buffer.from(fetched.bytes).toString("utf8")) as Record<string, string>;
}

async function failure(promise: Promise<unknown>): Promise<SecretwrapError> {
  const error: unknown = await promise.then(
    () => new Error("expected a failure"),
    (e: unknown) => e,
  );
  if (!(error instanceof SecretwrapError)) throw error;
  told.push(`${error.message}\n${error.hint}`);
  return error;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A lease that must be there (the database role always grants one). */
function leaseOf(fetched: Fetched): Lease {
  if (fetched.lease === undefined) throw new Error("no lease");
  return fetched.lease;
}

let vault: FakeVault;
beforeAll(async () => {
  vault = await FakeVault.start();
});
afterAll(() => vault.close());

let roles = 0;
/** A database role of its own per test, its passwords canaries. */
function databaseRole(ttl: number, maxTtl: number, renewable = true): string {
  const role = `app${++roles}`;
  vault.addDatabaseRole(role, {
    ttl,
    maxTtl,
    renewable,
    credentials: () => {
      const password = canary("DBPASS");
      planted.push(password);
      return { username: `v-${role}-${planted.length}`, password };
    },
  });
  return role;
}

/** A static token that may read database creds (and revoke leases when `revoke`). */
function staticToken(
  options: { ttl: number; renewable?: boolean; maxTtl?: number },
  extra: string[] = [],
): string {
  const token = vault.createTokenWith(["database/creds/*", ...extra], options);
  planted.push(token);
  return token;
}

describe("leases of dynamic secrets", () => {
  it("Fetched.lease carries the lease; renew extends it past its first TTL; unrenewed it really expires", async () => {
    const role = databaseRole(2, 30);
    const h = harness({ VAULT_ADDR: vault.url, VAULT_TOKEN: staticToken({ ttl: 600 }) });
    const session = await connect({}, h);
    const fetched = await fetch(session, `ref+vault://database/creds/${role}`);
    const lease = leaseOf(fetched);
    expect(lease).toEqual({
      id: expect.stringMatching(new RegExp(`^database/creds/${role}/.+`)) as unknown,
      durationSec: 2,
      renewable: true,
    });
    expect(h.masked).toContain(lease.id);
    const credential = json(fetched);
    expect(vault.credentialValid(credential)).toBe(true);
    // Two renewals 1 s apart keep a 2 s lease alive for 4 s (each 1 s before it would have ended).
    for (let i = 0; i < 2; i++) {
      await sleep(1_000);
      const renewed = await session.renew(lease, lease.durationSec, signal());
      expect(renewed).toEqual({ id: lease.id, durationSec: 2, renewable: true });
    }
    await sleep(1_000);
    expect(vault.credentialValid(credential)).toBe(true);
    const renewals = vault.eventsOf("lease-renew", `database/creds/${role}`);
    expect(renewals.map((e) => [e.durationSec, e.capped])).toEqual([
      [2, false],
      [2, false],
    ]);
    expect(vault.calls("sys/leases/renew", "PUT")).toHaveLength(2);
    // Without a renewal it ends with its TTL.
    await sleep(1_200);
    expect(vault.credentialValid(credential)).toBe(false);
    await session.close();
  });

  it("a credential is invalid after its lease's TTL in the server", async () => {
    const role = databaseRole(1, 5);
    const session = await connect(
      {},
      harness({ VAULT_ADDR: vault.url, VAULT_TOKEN: staticToken({ ttl: 600 }) }),
    );
    const credential = json(await fetch(session, `ref+vault://database/creds/${role}`));
    expect(vault.credentialValid(credential)).toBe(true);
    expect(vault.credentialValid({ ...credential, password: "wrong" })).toBe(false);
    await sleep(1_100);
    expect(vault.credentialValid(credential)).toBe(false);
    await session.close();
  });

  it("a renewal is capped at the lease's max TTL: a shorter duration than asked", async () => {
    const role = databaseRole(3, 4);
    const session = await connect(
      {},
      harness({ VAULT_ADDR: vault.url, VAULT_TOKEN: staticToken({ ttl: 600 }) }),
    );
    const lease = leaseOf(await fetch(session, `ref+vault://database/creds/${role}`));
    // At once: 3 more seconds stay within the 4 s max.
    expect((await session.renew(lease, 3, signal())).durationSec).toBe(3);
    // 1.2 s in, 3 more seconds would pass the 4 s max: Vault caps it (and the lease is still alive).
    await sleep(1_200);
    const capped = await session.renew(lease, 3, signal());
    expect(capped.durationSec).toBeLessThan(3);
    expect(vault.eventsOf("lease-renew", `database/creds/${role}`).map((e) => e.capped)).toEqual([
      false,
      true,
    ]);
    // Past the max TTL the lease is gone: a renewal is refused as final (read the secret again).
    await sleep(3_000);
    const gone = await failure(session.renew(lease, 3, signal()));
    expect(gone.code).toBe("FETCH_FAILED");
    expect(gone.transient).toBe(false);
    expect(gone.message).toContain("lease not found");
    await session.close();
  });

  it("a refused renewal is not transient: 400 → FETCH_FAILED (69), 403 → AUTH_FAILED (77); a 503 is transient", async () => {
    const role = databaseRole(30, 60);
    const session = await connect(
      {},
      harness({ VAULT_ADDR: vault.url, VAULT_TOKEN: staticToken({ ttl: 600 }) }),
    );
    const lease = leaseOf(await fetch(session, `ref+vault://database/creds/${role}`));
    try {
      vault.refuseLeaseRenewals = 400;
      const refused = await failure(session.renew(lease, 30, signal()));
      expect([refused.code, refused.exitCode, refused.transient]).toEqual(["FETCH_FAILED", 69, false]);
      expect(refused.message).toBe(
        `Vault refused renewing the lease database/creds/${role}/… (400, lease is not renewable)`,
      );
      expect(refused.hint).toContain("read the secret again");
      vault.refuseLeaseRenewals = 403;
      const denied = await failure(session.renew(lease, 30, signal()));
      expect([denied.code, denied.exitCode, denied.transient]).toEqual(["AUTH_FAILED", 77, false]);
    } finally {
      vault.refuseLeaseRenewals = undefined;
    }
    vault.server.script(
      (r) => apiPath(r) === "sys/leases/renew",
      [{ kind: "reply", reply: { status: 503, body: { errors: ["Vault is sealed"] } } }],
    );
    const sealed = await failure(session.renew(lease, 30, signal()));
    expect([sealed.code, sealed.transient]).toEqual(["FETCH_FAILED", true]);
    expect((await session.renew(lease, 30, signal())).durationSec).toBe(30);
    for (const e of [sealed]) expect(`${e.message}${e.hint}`).not.toContain(lease.id);
    await session.close();
  });

  it("revoke: the server sees sys/leases/revoke and the credential is dead at once; without the policy it is AUTH_FAILED", async () => {
    const role = databaseRole(30, 60);
    const allowed = staticToken({ ttl: 600 }, ["sys/leases/revoke"]);
    const session = await connect({}, harness({ VAULT_ADDR: vault.url, VAULT_TOKEN: allowed }));
    const fetched = await fetch(session, `ref+vault://database/creds/${role}`);
    await session.revoke(leaseOf(fetched), signal());
    expect(vault.eventsOf("lease-revoke", `database/creds/${role}`)).toHaveLength(1);
    expect(vault.calls("sys/leases/revoke", "PUT").length).toBeGreaterThanOrEqual(1);
    expect(vault.credentialValid(json(fetched))).toBe(false);
    await session.close();

    // Vault's default policy does not grant sys/leases/revoke.
    const plain = await connect(
      {},
      harness({ VAULT_ADDR: vault.url, VAULT_TOKEN: staticToken({ ttl: 600 }) }),
    );
    const other = await fetch(plain, `ref+vault://database/creds/${role}`);
    const denied = await failure(plain.revoke(leaseOf(other), signal()));
    expect(denied.code).toBe("AUTH_FAILED");
    expect(denied.hint).toContain("sys/leases/revoke");
    expect(vault.credentialValid(json(other))).toBe(true);
    await plain.close();
  });
});

describe("the session's own token", () => {
  it("the descriptor declares all five capabilities", () => {
    expect(DESCRIPTORS.find((d) => d.scheme === "vault")?.capabilities).toEqual({
      checkVersion: true,
      renew: true,
      revoke: true,
      renewToken: true,
      revokeToken: true,
    });
  });

  it("a run without --watch sends no lifecycle request: connect, fetch, close", async () => {
    const role = await vault.addAppRole("plain", ["database/creds/*"], { mount: "approle-plain" });
    const secretId = await role.secretId();
    planted.push(secretId);
    const before = vault.server.requests.length;
    const session = await connect(
      { auth: { method: "approle", mount: role.mount, roleId: role.roleId, secretId } },
      harness({ VAULT_ADDR: vault.url }),
    );
    await fetch(session, `ref+vault://database/creds/${databaseRole(30, 60)}`);
    await session.close();
    expect(vault.server.requests.slice(before).map(apiPath)).toEqual([
      "auth/approle-plain/login",
      "sys/internal/ui/mounts/database/creds/" + `app${roles}`,
      `database/creds/app${roles}`,
    ]);
  });

  it("tokenLifetime: a login's answer without a request; a static token with exactly one lookup-self", async () => {
    const role = await vault.addAppRole("life", ["database/creds/*"], {
      mount: "approle-life",
      tokenTtl: 60,
    });
    const secretId = await role.secretId();
    planted.push(secretId);
    const session = await connect(
      { auth: { method: "approle", mount: role.mount, roleId: role.roleId, secretId } },
      harness({ VAULT_ADDR: vault.url }),
    );
    const before = vault.server.requests.length;
    const life = await session.tokenLifetime(signal());
    expect(vault.server.requests.length).toBe(before);
    expect(life?.renewable).toBe(true);
    expect(life?.durationSec).toBe(60);
    await session.close();

    const token = staticToken({ ttl: 120, renewable: false });
    const fixed = await connect({}, harness({ VAULT_ADDR: vault.url, VAULT_TOKEN: token }));
    const lookups = vault.calls("auth/token/lookup-self").length;
    const looked = await fixed.tokenLifetime(signal());
    expect(vault.calls("auth/token/lookup-self").length - lookups).toBe(1);
    expect(looked).toEqual({ durationSec: expect.any(Number) as unknown, renewable: false });
    expect(looked?.durationSec).toBeGreaterThanOrEqual(119);
    await fixed.close();

    // A token that never expires (the root token here) has no lifetime.
    const root = await connect({}, harness({ VAULT_ADDR: vault.url, VAULT_TOKEN: vault.rootToken }));
    expect(await root.tokenLifetime(signal())).toBeUndefined();
    await root.close();
  });

  it("renewToken renews with the TTL first granted, then logs in again once a renewal was capped (re-reading the JWT file)", async () => {
    vault.addJwtRole("jwt", "capped", { aud: "vault" }, ["database/creds/*"], {
      mount: "jwt-capped",
      tokenTtl: 3,
      tokenMaxTtl: 4,
    });
    const first = vault.issueJwt({ aud: "vault", sub: "first" });
    planted.push(first);
    const jwtFile = file(first);
    const h = harness({ VAULT_ADDR: vault.url });
    const session = await connect(
      { auth: { method: "jwt", mount: "jwt-capped", role: "capped", jwtFile } },
      h,
    );
    const renewed = await session.renewToken(signal());
    expect(renewed?.durationSec).toBe(3);
    const asked = vault.calls("auth/token/renew-self", "POST").at(-1);
    expect(JSON.parse(asked?.body ?? "{}")).toEqual({ increment: "3s" });
    await sleep(1_200);
    // 1.2 s in, 3 more seconds would pass the 4 s max: Vault caps it.
    const capped = await session.renewToken(signal());
    expect(capped?.durationSec).toBeLessThan(3);
    const renewals = vault.events.filter((e) => e.kind === "token-renew");
    expect(renewals.at(-1)?.capped).toBe(true);
    // The identity provider rotated the JWT: the next renewal is a new login with the new file content.
    const second = vault.issueJwt({ aud: "vault", sub: "second" });
    planted.push(second);
    writeFileSync(jwtFile, second);
    const renewSelf = vault.calls("auth/token/renew-self").length;
    const relogged = await session.renewToken(signal());
    expect(vault.calls("auth/token/renew-self").length).toBe(renewSelf);
    const logins = vault.eventsOf("login", "auth/jwt-capped");
    expect(logins.map((e) => e.claims?.["sub"])).toEqual(["first", "second"]);
    expect(relogged?.durationSec).toBe(3);
    expect(h.masked).toContain(second);
    // The new token works, and the next renewal is renew-self again.
    await fetch(session, `ref+vault://database/creds/${databaseRole(30, 60)}`);
    await session.renewToken(signal());
    expect(vault.calls("auth/token/renew-self").length).toBe(renewSelf + 1);
    await session.close();
  });

  it("a lease ends with the login token it was read with, even after renewToken logged in again (Vault's lease tree)", async () => {
    const role = await vault.addAppRole("tree", ["database/creds/*"], {
      mount: "approle-tree",
      tokenTtl: 2,
    });
    const secretId = await role.secretId();
    planted.push(secretId);
    const session = await connect(
      { auth: { method: "approle", mount: role.mount, roleId: role.roleId, secretId } },
      harness({ VAULT_ADDR: vault.url }),
    );
    const fetched = await fetch(session, `ref+vault://database/creds/${databaseRole(30, 60)}`);
    try {
      vault.refuseTokenRenewals = 400;
      // a new login: the first token is left to run out in 2 s, and renewToken says so
      const replaced = await session.renewToken(signal());
      expect(replaced.replaced?.leasesEndInSec).toBeGreaterThanOrEqual(1);
      expect(replaced.replaced?.leasesEndInSec).toBeLessThanOrEqual(2);
      vault.refuseTokenRenewals = 403; // Vault no longer knows the token: its leases are gone already
      expect((await session.renewToken(signal())).replaced).toEqual({ leasesEndInSec: 0 });
    } finally {
      vault.refuseTokenRenewals = undefined;
    }
    expect(vault.eventsOf("login", "auth/approle-tree")).toHaveLength(3);
    await sleep(1_000);
    const renewed = await session.renewToken(signal());
    expect(renewed.durationSec).toBe(2); // the new token lives on, renewed, not replaced
    expect(renewed.replaced).toBeUndefined();
    expect(vault.credentialValid(json(fetched))).toBe(true);
    // The first token runs out, and Vault revokes what it read: the 30 s lease too.
    await sleep(1_100);
    expect(vault.credentialValid(json(fetched))).toBe(false);
    const gone = await failure(session.renew(leaseOf(fetched), 30, signal()));
    expect([gone.code, gone.transient]).toEqual(["FETCH_FAILED", false]);
    expect(gone.message).toContain("lease not found");
    // The new token reads a new secret.
    const again = await fetch(session, `ref+vault://database/creds/app${roles}`);
    expect(vault.credentialValid(json(again))).toBe(true);
    await session.close();
  });

  it("renewToken logs in again (re-reading the service-account token) when renew-self is refused, 400 or 403", async () => {
    const claim = "kubernetes.io/serviceaccount/service-account.name";
    vault.addJwtRole("kubernetes", "refused", { [claim]: "app" }, ["database/creds/*"], {
      mount: "k8s-refused",
      tokenTtl: 30,
    });
    const jwts = [1, 2, 3].map((n) => vault.issueJwt({ [claim]: "app", n: String(n) }));
    planted.push(...jwts);
    const jwtFile = file(jwts[0] as string);
    const session = await connect(
      { auth: { method: "kubernetes", mount: "k8s-refused", role: "refused", jwtFile } },
      harness({ VAULT_ADDR: vault.url }),
    );
    try {
      for (const [i, status] of [
        [1, 400],
        [2, 403],
      ] as const) {
        vault.refuseTokenRenewals = status;
        writeFileSync(jwtFile, jwts[i] as string);
        const life = await session.renewToken(signal());
        expect(life?.durationSec).toBe(30);
        expect(vault.eventsOf("token-renew").at(-1)?.refused).toBe(status);
      }
    } finally {
      vault.refuseTokenRenewals = undefined;
    }
    expect(vault.eventsOf("login", "auth/k8s-refused").map((e) => e.claims?.["n"])).toEqual(["1", "2", "3"]);
    // Vault failing to answer is not a refusal: transient, for the watch to retry; no new login.
    vault.server.script(
      (r) => apiPath(r) === "auth/token/renew-self",
      [{ kind: "reply", reply: { status: 503, body: { errors: ["Vault is sealed"] } } }],
    );
    const sealed = await failure(session.renewToken(signal()));
    expect([sealed.code, sealed.transient]).toEqual(["FETCH_FAILED", true]);
    expect(vault.eventsOf("login", "auth/k8s-refused")).toHaveLength(3);
    await session.close();
  });

  it("renewToken logs in again for a token that is not renewable, without asking renew-self", async () => {
    const role = await vault.addAppRole("fixed", ["database/creds/*"], {
      mount: "approle-fixed",
      tokenTtl: 20,
      tokenRenewable: false,
    });
    const secretId = await role.secretId();
    planted.push(secretId);
    const session = await connect(
      { auth: { method: "approle", mount: role.mount, roleId: role.roleId, secretId } },
      harness({ VAULT_ADDR: vault.url }),
    );
    const renewSelf = vault.calls("auth/token/renew-self").length;
    expect((await session.renewToken(signal()))?.durationSec).toBe(20);
    expect(vault.calls("auth/token/renew-self").length).toBe(renewSelf);
    expect(vault.eventsOf("login", "auth/approle-fixed")).toHaveLength(2);
    await session.close();
  });

  it("a static token is renewed with renew-self, never replaced; a non-renewable one is only looked up", async () => {
    const token = staticToken({ ttl: 40, maxTtl: 600 });
    const session = await connect({}, harness({ VAULT_ADDR: vault.url, VAULT_TOKEN: token }));
    const logins = vault.eventsOf("login").length;
    expect(await session.tokenLifetime(signal())).toEqual({
      durationSec: expect.any(Number) as unknown,
      renewable: true,
    });
    const renewed = await session.renewToken(signal());
    expect(renewed).toEqual({ durationSec: 40, renewable: true });
    expect(JSON.parse(vault.calls("auth/token/renew-self").at(-1)?.body ?? "{}")).toEqual({
      increment: "40s",
    });
    // An answer without a TTL would leave the watch nothing to schedule by: refused, not guessed.
    vault.server.script(
      (r) => apiPath(r) === "auth/token/renew-self",
      [{ kind: "reply", reply: { status: 200, body: { auth: { renewable: true } } } }],
    );
    const empty = await failure(session.renewToken(signal()));
    expect([empty.code, empty.transient]).toEqual(["FETCH_FAILED", false]);
    await session.close();

    const fixed = staticToken({ ttl: 40, renewable: false });
    const other = await connect({}, harness({ VAULT_ADDR: vault.url, VAULT_TOKEN: fixed }));
    const renewSelf = vault.calls("auth/token/renew-self").length;
    const lookups = vault.calls("auth/token/lookup-self").length;
    expect((await other.renewToken(signal()))?.renewable).toBe(false);
    expect(vault.calls("auth/token/lookup-self").length - lookups).toBe(1);
    expect(vault.calls("auth/token/renew-self").length).toBe(renewSelf);
    await other.close();
    expect(vault.eventsOf("login").length).toBe(logins);
  });

  it("revokeToken revokes the login token (and so its leases) once; close() does not revoke it again", async () => {
    const role = await vault.addAppRole("rv", ["database/creds/*"], { mount: "approle-rv" });
    const secretId = await role.secretId();
    planted.push(secretId);
    const session = await connect(
      { revokeToken: true, auth: { method: "approle", mount: role.mount, roleId: role.roleId, secretId } },
      harness({ VAULT_ADDR: vault.url }),
    );
    const fetched = await fetch(session, `ref+vault://database/creds/${databaseRole(30, 60)}`);
    const revokes = vault.calls("auth/token/revoke-self").length;
    expect(await session.revokeToken(signal())).toBe(true);
    expect(vault.calls("auth/token/revoke-self").length).toBe(revokes + 1);
    expect(vault.credentialValid(json(fetched))).toBe(false);
    expect(vault.eventsOf("lease-revoke").at(-1)?.withToken).toBe(true);
    expect(await session.revokeToken(signal())).toBe(false);
    await session.close();
    expect(vault.calls("auth/token/revoke-self").length).toBe(revokes + 1);
  });

  it("revokeToken never revokes a static token the user gave", async () => {
    const token = staticToken({ ttl: 600 });
    const session = await connect({}, harness({ VAULT_ADDR: vault.url, VAULT_TOKEN: token }));
    const revokes = vault.calls("auth/token/revoke-self").length;
    expect(await session.revokeToken(signal())).toBe(false);
    await session.close();
    expect(vault.calls("auth/token/revoke-self").length).toBe(revokes);
    expect(vault.tokenValid(token)).toBe(true);
  });
});

describe("checkVersion", () => {
  let value: string;
  beforeAll(async () => {
    await vault.mountKv("kv", 2);
    await vault.mountKv("kv1", 1);
    value = canary("KV");
    planted.push(value);
    await vault.putKv("kv", "app/db", { password: value });
    await vault.putKv("kv1", "app/config", { key: value });
  });

  it("after a KV v2 write (over HTTP) gives the new version, with no data read", async () => {
    const session = await connect(
      {},
      harness({ VAULT_ADDR: vault.url, VAULT_TOKEN: staticToken({ ttl: 600 }, ["kv/*"]) }),
    );
    const ref = parseRef("ref+vault://kv/app/db");
    const fetched = await session.fetch(ref, signal());
    expect(await session.checkVersion(ref, signal())).toBe(fetched.version);
    const next = canary("KV");
    planted.push(next);
    const written = await globalThis.fetch(`${vault.url}/v1/kv/data/app/db`, {
      method: "POST",
      headers: { "X-Vault-Token": vault.rootToken, "Content-Type": "application/json" },
      body: JSON.stringify({ data: { password: next } }),
    });
    const version = ((await written.json()) as { data: { version: number } }).data.version;
    expect(version).toBe(Number(fetched.version) + 1);
    const reads = vault.calls("kv/data/app/db").length;
    const metadata = vault.calls("kv/metadata/app/db").length;
    expect(await session.checkVersion(ref, signal())).toBe(String(version));
    expect(vault.calls("kv/data/app/db").length).toBe(reads);
    expect(vault.calls("kv/metadata/app/db").length).toBe(metadata + 1);
    // And the version fetch then serves is the same string.
    expect((await session.fetch(ref, signal())).version).toBe(String(version));
    await session.close();
  });

  it("a pinned version needs no request; KV v1 and database secrets have no cheap check", async () => {
    const session = await connect(
      {},
      harness({ VAULT_ADDR: vault.url, VAULT_TOKEN: staticToken({ ttl: 600 }, ["kv/*", "kv1/*"]) }),
    );
    const pinned = parseRef("ref+vault://kv/app/db?version=1");
    const v1 = parseRef("ref+vault://kv1/app/config");
    // KV never carries a lease (KV v1's lease_duration is advisory, with no lease id).
    expect((await session.fetch(pinned, signal())).lease).toBeUndefined();
    expect((await session.fetch(v1, signal())).lease).toBeUndefined();
    const before = vault.server.requests.length;
    expect(await session.checkVersion(pinned, signal())).toBe("1");
    expect(await session.checkVersion(v1, signal())).toBeUndefined();
    expect(vault.server.requests.length).toBe(before);
    await session.close();
  });

  it("an expired login token: checkVersion logs in again, like a read, and answers", async () => {
    const role = await vault.addAppRole("cv", ["kv/*"], { mount: "approle-cv", tokenTtl: 1 });
    const secretId = await role.secretId();
    planted.push(secretId);
    const session = await connect(
      { auth: { method: "approle", mount: role.mount, roleId: role.roleId, secretId } },
      harness({ VAULT_ADDR: vault.url }),
    );
    const ref = parseRef("ref+vault://kv/app/db");
    const version = (await session.fetch(ref, signal())).version;
    await sleep(1_100);
    expect(await session.checkVersion(ref, signal())).toBe(version);
    expect(vault.eventsOf("login", "auth/approle-cv")).toHaveLength(2);
    await session.close();
  });

  it("metadata denied (a policy granting only data/): undefined, asked once, one debug line", async () => {
    const h = harness({ VAULT_ADDR: vault.url, VAULT_TOKEN: staticToken({ ttl: 600 }, ["kv/data/app/*"]) });
    const session = await connect({}, h);
    const ref = parseRef("ref+vault://kv/app/db");
    await session.fetch(ref, signal());
    const metadata = vault.calls("kv/metadata/app/db").length;
    expect(await session.checkVersion(ref, signal())).toBeUndefined();
    expect(await session.checkVersion(ref, signal())).toBeUndefined();
    expect(vault.calls("kv/metadata/app/db").length).toBe(metadata + 1);
    expect(h.logs.filter((l) => l.includes("kv/metadata/app/db"))).toHaveLength(1);
    await session.close();
  });
});

describe("secrecy", () => {
  it("no token, secret_id, JWT, lease id or secret in any log line or error", () => {
    const tokens = new Set<string>();
    for (const r of vault.server.requests) {
      const t = r.headers["x-vault-token"];
      if (typeof t === "string") tokens.add(t);
    }
    const leaseIds = vault.leases().map((l) => l.id);
    const suffixes = leaseIds.map((id) => id.slice(id.lastIndexOf("/") + 1));
    const credentials = [...tokens, ...planted, ...leaseIds, ...suffixes];
    expect(credentials.length).toBeGreaterThan(20);
    const text = [...told, ...contexts.flatMap((h) => h.logs)].join("\n");
    expect(text.split("\n").length).toBeGreaterThan(10);
    for (const c of credentials) expect(text).not.toContain(c);
    expect(text).not.toMatch(canaryPattern());
  });
});
