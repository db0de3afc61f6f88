// run --watch with Vault, end to end (issue 15, acceptance 1, 4 and 5): the built CLI against the fake
// Vault's real lease and token lifecycles (test/servers/vault-lifecycle.ts), with the watch probe as
// the app. The server's own event log says when each renewal, read and revocation happened; the app
// says what it holds (digests only), and the server says whether that credential is in force.
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { scanForCanaries } from "../helpers/canary.ts";
import { NODES } from "../helpers/nodes.ts";
import { scratchDirs } from "../helpers/scratch.ts";
import { FakeVault, type AppRoleHandle, type LifecycleEvent } from "../servers/vault.ts";
import {
  linesWith,
  stopLeftovers,
  sleep,
  startWatched,
  waitUntil,
  type Held,
  canaryRole,
} from "../fixtures/watch-run.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-e2e-watch-vault-"));
const scratch = scratchDirs(work);

let vault: FakeVault;
let approle: AppRoleHandle;
/** Every value the dynamic roles handed out (each password a canary). */
const planted: string[] = [];
const sha = (text: string): string => createHash("sha256").update(text).digest("hex");

/** A database role whose every read is a new user with a canary password. */
function role(name: string, ttl: number, maxTtl: number, renewable = true): void {
  canaryRole(vault, planted, name, { ttl, maxTtl, renewable });
}

beforeAll(async () => {
  vault = await FakeVault.start();
  // Token TTL 5 s (renewed at about 3 s; its max far away): the token is kept alive alongside the leases.
  approle = await vault.addAppRole("app", ["database/creds/*", "sys/leases/revoke"], {
    tokenTtl: 5,
    tokenMaxTtl: 3600,
  });
  role("files", 3, 8);
  role("env", 3, 8);
  role("refused", 6, 600);
  role("term", 30, 600);
  role("keep", 30, 600);
});

afterEach(stopLeftovers);

afterAll(async () => {
  await vault.close();
  rmSync(work, { recursive: true, force: true });
});

async function loginEnv(): Promise<Record<string, string>> {
  const secretId = await approle.secretId();
  planted.push(secretId);
  return { VAULT_ADDR: vault.url, VAULT_ROLE_ID: approle.roleId, VAULT_SECRET_ID: secretId };
}

/** The lease (by its credentials' digests) that a pair of held values belongs to, if any. */
function credentialOf(path: string, user: Held | null | undefined, password: Held | null | undefined) {
  return vault
    .leases(path)
    .find(
      (l) =>
        sha(l.credentials["username"] ?? "") === user?.sha &&
        sha(l.credentials["password"] ?? "") === password?.sha,
    )?.credentials;
}

/**
 * Replays the server's events for the leases under `path`: every renewal must come before the lease's
 * expiry as the server last set it, none may be refused, and each lease but the last must have been
 * renewed up to its cap before the next read. Returns the number of leases issued.
 */
function checkRenewals(
  path: string,
  before: number,
): { issued: number; renewals: number; problems: string[] } {
  const problems: string[] = [];
  const expiry = new Map<string, number>();
  let issued = 0;
  let renewals = 0;
  const events = vault.events.filter((e) => e.path === path && e.time <= before);
  for (const e of events) {
    const id = e.leaseId ?? "";
    if (e.kind === "lease-issue") {
      issued++;
      expiry.set(id, e.time + (e.durationSec ?? 0) * 1000);
    } else if (e.kind === "lease-renew") {
      renewals++;
      const until = expiry.get(id);
      if (e.refused !== undefined) problems.push(`renewal refused (${e.refused}) at ${e.time}`);
      else if (until === undefined || e.time >= until)
        problems.push(`renewal at ${e.time} after expiry ${until}`);
      else expiry.set(id, e.time + (e.durationSec ?? 0) * 1000);
    }
  }
  // Each lease that was replaced was replaced before it ended (its max TTL, as the server keeps it).
  const leases = vault.leases(path).filter((l) => l.issuedAt <= before);
  for (let i = 1; i < leases.length; i++) {
    const old = leases[i - 1];
    const next = leases[i];
    if (old === undefined || next === undefined) continue;
    if (next.issuedAt >= old.maxExpiresAt) problems.push(`lease ${i + 1} read after lease ${i}'s max TTL`);
    const renewed = events.filter(
      (e) => e.kind === "lease-renew" && e.leaseId === old.id && e.refused === undefined,
    );
    if (renewed.length < 2)
      problems.push(`lease ${i} renewed ${renewed.length} times before its replacement`);
    if (renewed.at(-1)?.capped !== true) problems.push(`lease ${i} replaced before its renewal was capped`);
  }
  return { issued, renewals, problems };
}

/** Token renewals (by accessor) before the token's expiry, none refused. */
function checkTokenRenewals(): { renewals: number; problems: string[] } {
  const problems: string[] = [];
  const expiry = new Map<string, number>();
  let renewals = 0;
  for (const e of vault.events) {
    const accessor = e.accessor ?? "";
    if (e.kind === "login") expiry.set(accessor, e.time + (e.durationSec ?? 0) * 1000);
    if (e.kind !== "token-renew" || !expiry.has(accessor)) continue;
    renewals++;
    const until = expiry.get(accessor) ?? 0;
    if (e.refused !== undefined) problems.push(`token renewal refused (${e.refused})`);
    else if (e.time >= until) problems.push(`token renewal at ${e.time} after its expiry ${until}`);
    else expiry.set(accessor, e.time + (e.durationSec ?? 0) * 1000);
  }
  return { renewals, problems };
}

/** Every secret that can appear: planted values, role and secret ids, every token the server issued. */
function secretsToScan(): string[] {
  return [...planted, approle.roleId, ...vault.ns().tokens.keys()].filter((s) => s !== vault.rootToken);
}

const PG_FILES = {
  PG_USER_FILE: "ref+vault://database/creds/files#username",
  PG_PASSWORD_FILE: "ref+vault://database/creds/files#password",
};
const PG_ENV = {
  PG_USER: "ref+vault://database/creds/env#username",
  PG_PASSWORD: "ref+vault://database/creds/env#password",
};

describe("acceptance 1: a 3 s lease with an 8 s max keeps an app alive for 20 s", () => {
  it(
    "E5: renewed before each expiry, a new credential before the max TTL; the app (files: SIGHUP, env: restart) always holds a valid credential",
    { timeout: 90_000 },
    async () => {
      const filesDir = scratch();
      const envDir = scratch();
      const files = startWatched(filesDir, ["run", "--watch"], {
        ...(await loginEnv()),
        ...PG_FILES,
        PROBE_READ: "PG_USER_FILE,PG_PASSWORD_FILE",
      });
      const env = startWatched(
        envDir,
        ["run", "--watch"],
        { ...(await loginEnv()), ...PG_ENV, PROBE_ENV: "PG_USER,PG_PASSWORD" },
        ["--term-default"],
      );
      await Promise.all([files.waitFor("ready"), env.waitFor("ready")]);
      const firstStart = files.of("start")[0];
      const paths = firstStart?.paths ?? {};
      const secretsDir = dirname(paths["PG_USER_FILE"] ?? "/nonexistent/x");
      expect(existsSync(secretsDir)).toBe(true);

      // Sample for 20 s: the credential each app holds now is in force now, by the server's account.
      const invalid: string[] = [];
      let samples = 0;
      const started = Date.now();
      // At least 20 s, and until each app has taken in its third new credential (at about 21 s): the
      // stop then falls between two replacements (about 7 s apart), so the counts below are exact.
      const thirdDelivered = (): boolean => files.of("read").length >= 3 && env.of("ready").length >= 4;
      while (Date.now() - started < 20_000 || !thirdDelivered()) {
        if (Date.now() - started > 60_000)
          throw new Error(`no third credential within 60 s:\n${files.stderr()}\n${env.stderr()}`);
        const read = files.latestRead();
        const filesCred = credentialOf(
          "database/creds/files",
          read?.files?.["PG_USER_FILE"],
          read?.files?.["PG_PASSWORD_FILE"],
        );
        if (filesCred === undefined) invalid.push(`files app holds no issued pair (sample ${samples})`);
        else if (!vault.credentialValid(filesCred))
          invalid.push(`files app holds an expired credential (sample ${samples})`);
        const start = env.of("start").at(-1);
        const envCred = credentialOf(
          "database/creds/env",
          start?.env?.["PG_USER"],
          start?.env?.["PG_PASSWORD"],
        );
        if (envCred === undefined) invalid.push(`env app holds no issued pair (sample ${samples})`);
        else if (!vault.credentialValid(envCred))
          invalid.push(`env app holds an expired credential (sample ${samples})`);
        samples++;
        await sleep(250);
      }
      const stopAt = Date.now();
      files.kill("SIGTERM");
      env.kill("SIGTERM");
      const [filesResult, envResult] = await Promise.all([files.result, env.result]);

      expect(invalid).toEqual([]);
      expect(samples).toBeGreaterThan(60);

      // The server saw every renewal before the expiry it had set, and a new read before each max TTL.
      for (const [path, label] of [
        ["database/creds/files", "files"],
        ["database/creds/env", "env"],
      ] as const) {
        const { issued, renewals, problems } = checkRenewals(path, stopAt);
        expect(problems, label).toEqual([]);
        // 8 s leases for 20 s and more: the first and three replacements (at about 7, 14 and 21 s).
        expect(issued, label).toBe(4);
        expect(renewals, label).toBeGreaterThanOrEqual(2 * (issued - 1));
      }
      const tokens = checkTokenRenewals();
      expect(tokens.problems).toEqual([]);
      expect(tokens.renewals).toBeGreaterThanOrEqual(4);

      // Files: one app all along, exactly one SIGHUP per new credential, and each read after it is one pair.
      const issuedFiles = vault.leases("database/creds/files").filter((l) => l.issuedAt <= stopAt).length;
      expect(files.of("start")).toHaveLength(1);
      expect(issuedFiles).toBe(4);
      expect(files.of("signal", "SIGHUP")).toHaveLength(issuedFiles - 1);
      for (const read of files.of("read")) {
        expect(
          credentialOf(
            "database/creds/files",
            read.files?.["PG_USER_FILE"],
            read.files?.["PG_PASSWORD_FILE"],
          ),
        ).toBeDefined();
      }
      // Env: one restart per new credential, each after the old app was gone; the last app's
      // death by SIGTERM is secretwrap's 128+15.
      const issuedEnv = vault.leases("database/creds/env").filter((l) => l.issuedAt <= stopAt).length;
      const starts = env.of("start");
      expect(starts).toHaveLength(issuedEnv);
      expect(new Set(starts.map((s) => s.pid)).size).toBe(starts.length);
      for (const later of starts.slice(1)) expect(later.previous?.alive).toBe(false);
      expect(envResult.code).toBe(143);
      expect(filesResult.code).toBe(0);

      // At the end (acceptance 5 on a long run): every lease given up, both tokens revoked, dirs gone.
      expect(vault.leases("database/creds/files").every((l) => !vault.credentialValid(l.credentials))).toBe(
        true,
      );
      expect(vault.leases("database/creds/env").every((l) => !vault.credentialValid(l.credentials))).toBe(
        true,
      );
      expect(vault.eventsOf("token-revoke").filter((e) => e.time >= stopAt)).toHaveLength(2);
      expect(existsSync(secretsDir)).toBe(false);

      // Acceptance 6 for this run: no value or credential in anything either run printed or left.
      const texts = {
        filesStderr: filesResult.stderr,
        filesStdout: filesResult.stdout,
        envStderr: envResult.stderr,
        envStdout: envResult.stdout,
      };
      expect(scanForCanaries(secretsToScan(), { texts, paths: [filesDir, envDir] })).toEqual([]);
      // Each renewal, read and revocation has its audit line.
      expect(linesWith(filesResult.stderr, "renewed the lease of").length).toBeGreaterThanOrEqual(2);
      expect(linesWith(filesResult.stderr, "read a new secret for").length).toBe(issuedFiles - 1);
      expect(linesWith(filesResult.stderr, "revoked the lease of")).toHaveLength(1);
    },
  );
});

describe("acceptance 4: a credential that cannot be kept alive stops the app before it expires", () => {
  it("E7: renewal refused (403) and new reads refused → the app is stopped, exit 77, before the lease ends", async () => {
    const dir = scratch();
    const run = startWatched(
      dir,
      ["run", "--watch"],
      {
        ...(await loginEnv()),
        PG_PASSWORD_FILE: "ref+vault://database/creds/refused#password",
        PROBE_READ: "PG_PASSWORD_FILE",
      },
      ["--term-exit", "0"],
    );
    await run.waitFor("ready");
    const lease = vault.leases("database/creds/refused").at(-1);
    if (lease === undefined) throw new Error("no lease");
    const first = vault.server.requests.length;
    vault.refuseLeaseRenewals = 403;
    vault.server.script(
      (r) => r.path.startsWith("/v1/database/creds/refused"),
      [
        {
          kind: "reply",
          reply: { status: 403, body: { errors: ["1 error occurred:\n\t* permission denied\n\n"] } },
        },
      ],
      { forever: true },
    );
    try {
      const result = await run.result;
      const term = run.of("signal", "SIGTERM");
      expect(result.code).toBe(77);
      expect(term).toHaveLength(1);
      // The app was told to stop before the server would have ended its credential.
      expect(term[0]?.t ?? Infinity).toBeLessThan(lease.expiresAt);
      const renewals = vault.server.requests.slice(first).filter((r) => r.path === "/v1/sys/leases/renew");
      const reads = vault.server.requests
        .slice(first)
        .filter((r) => r.path.startsWith("/v1/database/creds/refused"));
      // 403 is final: one renewal, one read, no retries.
      expect(renewals).toHaveLength(1);
      expect(reads).toHaveLength(1);
      expect(result.stderr).toMatch(/could not be kept alive/);
      expect(result.stderr).toMatch(/--on-expiry exit/);
      expect(
        scanForCanaries(secretsToScan(), {
          texts: { stderr: result.stderr, stdout: result.stdout },
          paths: [dir],
        }),
      ).toEqual([]);
    } finally {
      vault.refuseLeaseRenewals = undefined;
      vault.server.clearFaults();
    }
  });

  it("--on-expiry warn: the same refusals keep the app running (warned), until it is stopped", async () => {
    const dir = scratch();
    const run = startWatched(
      dir,
      ["run", "--watch", "--on-expiry", "warn"],
      {
        ...(await loginEnv()),
        PG_PASSWORD_FILE: "ref+vault://database/creds/refused#password",
        PROBE_READ: "PG_PASSWORD_FILE",
      },
      ["--term-exit", "4"],
    );
    await run.waitFor("ready");
    const lease = vault.leases("database/creds/refused").at(-1);
    if (lease === undefined) throw new Error("no lease");
    vault.refuseLeaseRenewals = 403;
    vault.server.script(
      (r) => r.path.startsWith("/v1/database/creds/refused"),
      [
        {
          kind: "reply",
          reply: { status: 403, body: { errors: ["1 error occurred:\n\t* permission denied\n\n"] } },
        },
      ],
      { forever: true },
    );
    try {
      await waitUntil("the expiry warning", () => linesWith(run.stderr(), "--on-expiry warn").length > 0);
      // Past the lease's end the app still runs, told nothing.
      await waitUntil("the lease's end", () => Date.now() > lease.expiresAt + 500);
      expect(run.of("signal")).toEqual([]);
      run.kill("SIGTERM");
      const result = await run.result;
      expect(result.code).toBe(4);
      expect(linesWith(result.stderr, "--on-expiry warn")).toHaveLength(1);
    } finally {
      vault.refuseLeaseRenewals = undefined;
      vault.server.clearFaults();
    }
  });
});

describe("acceptance 5: TERM to secretwrap", () => {
  function revocationsAfter(t: number): LifecycleEvent[] {
    return vault.events.filter(
      (e) => e.time >= t && (e.kind === "lease-revoke" || e.kind === "token-revoke"),
    );
  }

  it.each(NODES)(
    "E9 under $name: the app is stopped, the lease and the login token revoked (the server saw both), the secrets dir removed",
    async (node) => {
      const dir = scratch();
      const run = startWatched(
        dir,
        ["run", "--watch"],
        {
          ...(await loginEnv()),
          PG_USER: "ref+vault://database/creds/term#username",
          PG_PASSWORD_FILE: "ref+vault://database/creds/term#password",
          PROBE_READ: "PG_PASSWORD_FILE",
        },
        ["--term-exit", "3"],
        { node },
      );
      const [start] = await run.waitFor("start");
      await run.waitFor("ready");
      const lease = vault.leases("database/creds/term").at(-1);
      if (lease === undefined) throw new Error("no lease");
      const secretsDir = dirname(start?.paths?.["PG_PASSWORD_FILE"] ?? "/nonexistent/x");
      expect(existsSync(secretsDir)).toBe(true);
      expect(vault.credentialValid(lease.credentials)).toBe(true);
      const stopAt = Date.now();
      run.kill("SIGTERM");
      const result = await run.result;
      // The app's own answer to TERM is secretwrap's exit code.
      expect(result.code).toBe(3);
      expect(run.of("signal", "SIGTERM")).toHaveLength(1);
      const revoked = revocationsAfter(stopAt);
      expect(
        revoked.filter((e) => e.kind === "lease-revoke" && e.leaseId === lease.id && e.withToken !== true),
      ).toHaveLength(1);
      expect(revoked.filter((e) => e.kind === "token-revoke")).toHaveLength(1);
      expect(vault.credentialValid(lease.credentials)).toBe(false);
      expect(existsSync(secretsDir)).toBe(false);
      expect(linesWith(result.stderr, "revoked the lease of")).toHaveLength(1);
      expect(linesWith(result.stderr, "revoked the vault login token")).toHaveLength(1);
      expect(
        scanForCanaries(secretsToScan(), {
          texts: { stderr: result.stderr, stdout: result.stdout },
          paths: [dir],
        }),
      ).toEqual([]);
    },
  );

  it("E9: the app exits by itself: its code, and the lease and token are revoked all the same", async () => {
    const dir = scratch();
    const run = startWatched(
      dir,
      ["run", "--watch"],
      {
        ...(await loginEnv()),
        PG_PASSWORD_FILE: "ref+vault://database/creds/term#password",
        PROBE_READ: "PG_PASSWORD_FILE",
      },
      ["--exit-on-usr1", "6"],
    );
    const [start] = await run.waitFor("start");
    await run.waitFor("ready");
    const lease = vault.leases("database/creds/term").at(-1);
    if (lease === undefined) throw new Error("no lease");
    const exitAt = Date.now();
    process.kill(start?.pid ?? 0, "SIGUSR1");
    const result = await run.result;
    expect(result.code).toBe(6);
    expect(
      revocationsAfter(exitAt).filter((e) => e.kind === "lease-revoke" && e.leaseId === lease.id),
    ).toHaveLength(1);
    expect(revocationsAfter(exitAt).filter((e) => e.kind === "token-revoke")).toHaveLength(1);
    expect(existsSync(dirname(start?.paths?.["PG_PASSWORD_FILE"] ?? "/nonexistent/x"))).toBe(false);
  });

  it("E9: revocation is bounded: Vault hangs on every revocation, secretwrap still ends (with the app's code) within its budget", async () => {
    const dir = scratch();
    const run = startWatched(
      dir,
      ["run", "--watch"],
      {
        ...(await loginEnv()),
        PG_PASSWORD_FILE: "ref+vault://database/creds/term#password",
        PROBE_READ: "PG_PASSWORD_FILE",
      },
      ["--term-exit", "0"],
    );
    await run.waitFor("ready");
    vault.server.script(
      (r) => /\/v1\/(sys\/leases\/revoke|auth\/token\/revoke-self)/.test(r.path),
      [{ kind: "hang" }],
      { forever: true },
    );
    try {
      const stopAt = Date.now();
      run.kill("SIGTERM");
      const result = await run.result;
      expect(result.code).toBe(0);
      // Both revocations were tried (and hung), then given up: the budget is 3 s; far less than the hang.
      const tried = vault.server.requests.filter((r) => r.time >= stopAt && /revoke/.test(r.path));
      expect(
        tried.map((r) => r.path),
        result.stderr,
      ).toHaveLength(2);
      expect(Date.now() - stopAt).toBeLessThan(15_000);
      expect(linesWith(result.stderr, "could not revoke").length).toBeGreaterThanOrEqual(2);
    } finally {
      vault.server.clearFaults();
    }
  });

  it("--revoke-on-exit false: nothing is revoked, the credential stays in force", async () => {
    const dir = scratch();
    const run = startWatched(dir, ["run", "--watch", "--revoke-on-exit", "false"], {
      ...(await loginEnv()),
      PG_PASSWORD_FILE: "ref+vault://database/creds/keep#password",
      PROBE_READ: "PG_PASSWORD_FILE",
    });
    await run.waitFor("ready");
    const lease = vault.leases("database/creds/keep").at(-1);
    if (lease === undefined) throw new Error("no lease");
    const stopAt = Date.now();
    run.kill("SIGTERM");
    const result = await run.result;
    expect(result.code).toBe(0);
    expect(revocationsAfter(stopAt)).toEqual([]);
    expect(vault.credentialValid(lease.credentials)).toBe(true);
    expect(linesWith(result.stderr, "revoked")).toEqual([]);
  });
});
