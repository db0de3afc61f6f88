// The lifecycle cases of the reliability matrix (group E) for run --watch, with the built CLI against
// the fake Vault's real lease semantics and the watch probe (or a shell app) as the app: Vault down
// during a renewal, a lease Vault no longer knows, a non-renewable lease, a login token whose renewal is
// refused, an app that ignores SIGHUP, an app that exits in the middle of a swap (traced: no signal to
// a reaped PID), TERM during a restart, and refreshes failing with 500 and 403. Every wait has a
// generous deadline; the assertions are orders and counts, not wall-clock values.
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { canary, scanForCanaries } from "../helpers/canary.ts";
import { startCli } from "../helpers/cli.ts";
import { REPO } from "../helpers/nodes.ts";
import { scratchDirs } from "../helpers/scratch.ts";
import { apiPath, FakeVault, type AppRoleHandle } from "../servers/vault.ts";
import {
  linesWith,
  stopLeftovers,
  tracked,
  sleep,
  startWatched,
  vaultApi,
  waitUntil,
  type Held,
  canaryRole,
} from "../fixtures/watch-run.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-lifecycle-"));
const scratch = scratchDirs(work);

let vault: FakeVault;
let approle: AppRoleHandle;
/** A static token for the cases about leases and refreshes (its own lifetime is far away). */
let token: string;
const planted: string[] = [];
const sha = (text: string): string => createHash("sha256").update(text).digest("hex");

function value(tag: number, label: string): string {
  const c = canary(label);
  planted.push(c);
  return `v${tag} ${c}`;
}

function role(name: string, ttl: number, maxTtl: number, renewable = true): void {
  canaryRole(vault, planted, name, { ttl, maxTtl, renewable });
}

beforeAll(async () => {
  vault = await FakeVault.start();
  await vault.mountKv("secret", 2);
  const policy = ["database/creds/*", "sys/leases/revoke", "secret/*"];
  token = await vault.createToken(policy, 3600);
  planted.push(token);
  approle = await vault.addAppRole("app", policy, { tokenTtl: 3, tokenMaxTtl: 3600 });
  role("down", 8, 600);
  role("gone", 6, 600);
  role("static", 4, 4, false);
  role("tree", 30, 600);
  role("clock", 6, 600);
  role("clockretry", 10, 600);
});

afterEach(async () => {
  await stopLeftovers();
  vault.server.clearFaults();
  vault.refuseLeaseRenewals = undefined;
  vault.refuseTokenRenewals = undefined;
});

afterAll(async () => {
  await vault.close();
  rmSync(work, { recursive: true, force: true });
});

const tokenEnv = (): Record<string, string> => ({ VAULT_ADDR: vault.url, VAULT_TOKEN: token });

async function kvPut(path: string, data: Record<string, string>): Promise<number> {
  const { status } = await vaultApi(vault.url, vault.rootToken, "POST", `secret/data/${path}`, { data });
  expect(status).toBe(200);
  return Date.now();
}

/** The lease a pair of held digests belongs to. */
function leaseOf(path: string, password: Held | null | undefined) {
  return vault.leases(path).find((l) => sha(l.credentials["password"] ?? "") === password?.sha);
}

function allSecrets(): string[] {
  return [...planted, approle.roleId, ...vault.ns().tokens.keys()].filter((s) => s !== vault.rootToken);
}

describe("E7: renewal fails", () => {
  it("E7: Vault down during the renewal: retried within the lease's time left, then the app is stopped and 69, before it expires", async () => {
    const dir = scratch();
    const run = startWatched(
      dir,
      ["run", "--watch"],
      {
        ...tokenEnv(),
        PG_PASSWORD_FILE: "ref+vault://database/creds/down#password",
        PROBE_READ: "PG_PASSWORD_FILE",
      },
      ["--term-exit", "0"],
    );
    await run.waitFor("ready");
    const lease = vault.leases("database/creds/down").at(-1);
    if (lease === undefined) throw new Error("no lease");
    const downAt = Date.now();
    // Every connection is reset from now on: Vault is down (its requests are still counted).
    vault.server.script(() => true, [{ kind: "reset" }], { forever: true });
    const result = await run.result;
    expect(result.code).toBe(69);
    const term = run.of("signal", "SIGTERM");
    expect(term).toHaveLength(1);
    expect(term[0]?.t ?? Infinity).toBeLessThan(lease.expiresAt);
    const renewals = vault.server.requests.filter(
      (r) => r.time >= downAt && apiPath(r) === "sys/leases/renew",
    );
    // Retried (transient), with backoff: more than one attempt, far from a storm.
    expect(renewals.length).toBeGreaterThanOrEqual(2);
    expect(renewals.length).toBeLessThan(30);
    // The first attempt came at about two thirds of the lease, well before it ended.
    expect(renewals[0]?.time ?? Infinity).toBeLessThan(lease.expiresAt - 1_000);
    expect(result.stderr).toMatch(/could not be kept alive/);
    // Revocation at exit fails too (Vault is down): reported, bounded, and the exit code stays 69 (E9).
    expect(linesWith(result.stderr, "could not revoke the lease").length).toBe(1);
    expect(
      scanForCanaries(allSecrets(), {
        texts: { stderr: result.stderr, stdout: result.stdout },
        paths: [dir],
      }),
    ).toEqual([]);
  });

  it('E7: "lease not found" on renewal switches to a new read at once (one refused renewal, no retries); the app gets the new credential', async () => {
    const dir = scratch();
    const run = startWatched(
      dir,
      ["run", "--watch"],
      {
        ...tokenEnv(),
        PG_PASSWORD_FILE: "ref+vault://database/creds/gone#password",
        PROBE_READ: "PG_PASSWORD_FILE",
      },
      ["--term-exit", "0"],
    );
    await run.waitFor("ready");
    const old = vault.leases("database/creds/gone").at(-1);
    if (old === undefined) throw new Error("no lease");
    // Someone revokes the lease behind secretwrap's back: Vault forgets it.
    const { status } = await vaultApi(vault.url, vault.rootToken, "PUT", "sys/leases/revoke", {
      lease_id: old.id,
    });
    expect(status).toBe(204);
    await run.waitFor("signal", 1, 20_000, "SIGHUP");
    const next = vault.leases("database/creds/gone").at(-1);
    if (next === undefined || next.id === old.id) throw new Error("no new lease");
    // The new lease is renewed normally afterwards.
    await waitUntil("a renewal of the new lease", () =>
      vault.eventsOf("lease-renew").some((e) => e.leaseId === next.id && e.refused === undefined),
    );
    const oldRenewals = vault.eventsOf("lease-renew").filter((e) => e.leaseId === old.id);
    expect(oldRenewals).toEqual([expect.objectContaining({ refused: 400 })]);
    expect(vault.leases("database/creds/gone")).toHaveLength(2);
    const read = run.of("read").at(-1);
    expect(leaseOf("database/creds/gone", read?.files?.["PG_PASSWORD_FILE"])?.id).toBe(next.id);
    expect(vault.credentialValid(next.credentials)).toBe(true);
    run.kill("SIGTERM");
    const result = await run.result;
    expect(result.code).toBe(0);
    expect(run.of("signal", "SIGHUP")).toHaveLength(1);
    expect(linesWith(result.stderr, "could not renew the lease")).toHaveLength(1);
  });
});

describe("E6: a lease that cannot be renewed", () => {
  it("E6: a non-renewable 4 s lease is replaced before each expiry; the app always holds a valid credential", async () => {
    const dir = scratch();
    const run = startWatched(
      dir,
      ["run", "--watch"],
      {
        ...tokenEnv(),
        PG_PASSWORD_FILE: "ref+vault://database/creds/static#password",
        PROBE_READ: "PG_PASSWORD_FILE",
      },
      ["--term-exit", "0"],
    );
    await run.waitFor("ready");
    const invalid: string[] = [];
    const started = Date.now();
    // At least 8 s, and until the third new lease was taken in: the stop falls between replacements.
    while (Date.now() - started < 8_000 || run.of("read").length < 3) {
      if (Date.now() - started > 40_000) throw new Error(`no third lease within 40 s: ${run.stderr()}`);
      const held = leaseOf("database/creds/static", run.latestRead()?.files?.["PG_PASSWORD_FILE"]);
      if (held === undefined || !vault.credentialValid(held.credentials))
        invalid.push(`at ${Date.now() - started}ms`);
      await sleep(200);
    }
    const stopAt = Date.now();
    run.kill("SIGTERM");
    const result = await run.result;
    expect(invalid).toEqual([]);
    const leases = vault.leases("database/creds/static").filter((l) => l.issuedAt <= stopAt);
    expect(leases).toHaveLength(4);
    for (let i = 1; i < leases.length; i++)
      expect(leases[i]?.issuedAt ?? Infinity).toBeLessThan(leases[i - 1]?.expiresAt ?? 0);
    // Never asked to renew what cannot be renewed.
    expect(vault.eventsOf("lease-renew", "database/creds/static")).toEqual([]);
    expect(run.of("signal", "SIGHUP")).toHaveLength(leases.length - 1);
    expect(result.code).toBe(0);
  });
});

describe("E8: the login token", () => {
  it("E8: renew-self refused → secretwrap logs in again (the app keeps running, nothing expires)", async () => {
    const dir = scratch();
    await kvPut("app/e8", { value: value(1, "E8") });
    const secretId = await approle.secretId();
    planted.push(secretId);
    vault.refuseTokenRenewals = 400;
    const run = startWatched(
      dir,
      ["run", "--watch", "--refresh-interval", "1s"],
      {
        VAULT_ADDR: vault.url,
        VAULT_ROLE_ID: approle.roleId,
        VAULT_SECRET_ID: secretId,
        E8_FILE: "ref+vault://secret/app/e8#value",
        PROBE_READ: "E8_FILE",
      },
      ["--term-exit", "0"],
    );
    await run.waitFor("ready");
    const startedAt = Date.now();
    // A 3 s token: renewal refused at about 2 s, a new login each time, for 8 s.
    await waitUntil(
      "three logins",
      () => vault.eventsOf("login").filter((e) => e.time >= startedAt - 5_000).length >= 4,
      30_000,
    );
    // The version checks kept working with each new token (none was refused as invalid).
    const checks = vault.server.requests.filter((r) => apiPath(r) === "secret/metadata/app/e8");
    expect(checks.length).toBeGreaterThan(3);
    run.kill("SIGTERM");
    const result = await run.result;
    expect(result.code).toBe(0);
    expect(run.of("signal")).toEqual([expect.objectContaining({ signal: "SIGTERM" })]);
    expect(result.stderr).not.toMatch(/could not be kept alive/);
    expect(
      scanForCanaries(allSecrets(), {
        texts: { stderr: result.stderr, stdout: result.stdout },
        paths: [dir],
      }),
    ).toEqual([]);
  });
});

describe("E8: the login token's leases", () => {
  it("E8: a login token at its max TTL is replaced by a new login, and the leases read with it are read again before it ends (Vault ends them with it)", async () => {
    const dir = scratch();
    // Tokens live 3 s, at most 5 s: a new login at about 4 s, the old token gone at 5 s with its lease.
    const shortLived = await vault.addAppRole("short", ["database/creds/*", "sys/leases/revoke"], {
      tokenTtl: 3,
      tokenMaxTtl: 5,
    });
    const secretId = await shortLived.secretId();
    planted.push(secretId, shortLived.roleId);
    const run = startWatched(
      dir,
      ["run", "--watch"],
      {
        VAULT_ADDR: vault.url,
        VAULT_ROLE_ID: shortLived.roleId,
        VAULT_SECRET_ID: secretId,
        PG_PASSWORD_FILE: "ref+vault://database/creds/tree#password",
        PROBE_READ: "PG_PASSWORD_FILE",
      },
      ["--term-exit", "0"],
    );
    await run.waitFor("ready");
    const invalid: string[] = [];
    const started = Date.now();
    // At least 9 s, and until the second new lease was taken in (each new login brings one).
    while (Date.now() - started < 9_000 || run.of("read").length < 2) {
      if (Date.now() - started > 40_000) throw new Error(`no second new lease within 40 s: ${run.stderr()}`);
      const held = leaseOf("database/creds/tree", run.latestRead()?.files?.["PG_PASSWORD_FILE"]);
      if (held === undefined || !vault.credentialValid(held.credentials))
        invalid.push(`at ${Date.now() - started}ms`);
      await sleep(200);
    }
    run.kill("SIGTERM");
    const result = await run.result;
    expect(invalid).toEqual([]);
    // Two new logins in 9 s (at about 4 s and 8 s), and a new lease read under each.
    expect(
      vault.eventsOf("login", "auth/approle").filter((e) => e.time >= started - 3_000).length,
    ).toBeGreaterThanOrEqual(2);
    expect(vault.leases("database/creds/tree").length).toBeGreaterThanOrEqual(2);
    expect(run.of("signal", "SIGHUP").length).toBe(vault.leases("database/creds/tree").length - 1);
    expect(result.code).toBe(0);
  });
});

describe("E3 / E12: the app and its signals", () => {
  const strace = (() => {
    try {
      execFileSync("strace", ["-V"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  })();

  it("E3: an app that ignores SIGHUP keeps running; one SIGHUP per change, never repeated; the files are swapped all the same", async () => {
    const dir = scratch();
    const source = join(dir, "source");
    writeFileSync(source, value(1, "IGN"));
    const pidFile = join(dir, "app.pid");
    const app = `trap '' HUP; echo $$ > ${pidFile}; while :; do sleep 0.1; done`;
    const cli = tracked(
      startCli(["run", "--watch", "--refresh-interval", "500ms", "--", "sh", "-c", app], {
        cwd: dir,
        timeoutMs: 60_000,
        env: { SECRETWRAP_LOG_LEVEL: "info", IGN_FILE: `ref+file://${source}` },
      }),
    );
    const pid = Number(
      await waitUntil(
        "the app's pid",
        () => (existsSync(pidFile) && readFileSync(pidFile, "utf8").trim()) || undefined,
      ),
    );
    // SIGHUP (1) is ignored by the app itself: bit 0 of SigIgn.
    const sigIgn = /SigIgn:\s*([0-9a-f]+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? "0";
    expect(BigInt(`0x${sigIgn}`) & 1n).toBe(1n);
    const env = readFileSync(`/proc/${pid}/environ`, "latin1").split("\0");
    const path = env.find((e) => e.startsWith("IGN_FILE="))?.slice("IGN_FILE=".length) ?? "";
    let stderr = "";
    cli.child.stderr?.on("data", (c: string) => (stderr += c));
    // A tracer sees even an ignored signal: every SIGHUP that reaches the app, and who sent it.
    const seen = join(dir, "signals.txt");
    let attached: Promise<void> = Promise.resolve();
    if (strace) {
      const tracer = spawn(
        "strace",
        ["-p", String(pid), "-e", "trace=none", "-e", "signal=HUP", "-o", seen],
        {
          stdio: ["ignore", "ignore", "pipe"],
        },
      );
      let said = "";
      tracer.stderr.setEncoding("utf8").on("data", (c: string) => (said += c));
      attached = waitUntil("strace attached", () => said.includes("attached")).then(() => undefined);
    }
    await attached;
    for (const tag of [2, 3]) {
      const next = value(tag, "IGN");
      writeFileSync(source, next);
      await waitUntil(`change ${tag} swapped`, () => readFileSync(path, "utf8") === next);
      await waitUntil(`SIGHUP ${tag - 1} sent`, () => linesWith(stderr, "sending SIGHUP").length === tag - 1);
    }
    // Four more intervals: nothing is sent again.
    await sleep(2_500);
    expect(linesWith(stderr, "sending SIGHUP")).toHaveLength(2);
    expect(existsSync(`/proc/${pid}`)).toBe(true);
    cli.child.kill("SIGTERM");
    const result = await cli.result;
    // sh has no TERM handler: it dies of it, and secretwrap says so as 128+15.
    expect(result.code).toBe(143);
    expect(linesWith(result.stderr, "sending SIGHUP")).toHaveLength(2);
    expect(existsSync(dirname(path))).toBe(false);
    if (strace) {
      const hups = readFileSync(seen, "utf8")
        .split("\n")
        .filter((l) => l.startsWith("--- SIGHUP"));
      expect(hups).toHaveLength(2);
      for (const hup of hups) expect(hup).toContain(`si_pid=${cli.pid},`);
    }
  });

  it.skipIf(!strace)(
    "E12: an app that exits in the middle of a swap: secretwrap exits with its code and sends no signal to its reaped PID (strace)",
    async () => {
      const dir = scratch();
      const source = join(dir, "source");
      writeFileSync(source, value(1, "SWAP"));
      const trace = join(dir, "strace.txt");
      const run = startWatched(
        dir,
        ["run", "--watch", "--refresh-interval", "500ms"],
        { SWAP_FILE: `ref+file://${source}`, PROBE_READ: "SWAP_FILE" },
        ["--exit-on-swap", "3"],
        {
          prefix: [
            "strace",
            "-f",
            "-qq",
            "--seccomp-bpf",
            "-e",
            "trace=kill,tgkill,wait4,waitid",
            "-o",
            trace,
          ],
        },
      );
      const [start] = await run.waitFor("ready").then(() => run.of("start"));
      writeFileSync(source, value(2, "SWAP"));
      const result = await run.result;
      expect(run.of("swap-seen")).toHaveLength(1);
      expect(result.code).toBe(3);
      const pid = start?.pid ?? -1;
      const lines = readFileSync(trace, "utf8").split("\n");
      const reaped = lines.findIndex((l) => new RegExp(`wait(4|id)\\(.*= ${pid}$`).test(l));
      expect(reaped).toBeGreaterThan(-1);
      const after = lines.slice(reaped + 1).filter((l) => new RegExp(`kill\\(${pid},`).test(l));
      expect(after).toEqual([]);
      expect(run.of("start")).toHaveLength(1);
    },
  );
});

describe("TERM during a restart", () => {
  it("the old app is stopping when TERM arrives: no new app starts, the exit code is the old app's", async () => {
    const dir = scratch();
    await kvPut("app/restart", { password: value(1, "RST") });
    const run = startWatched(
      dir,
      ["run", "--watch", "--refresh-interval", "1s"],
      { ...tokenEnv(), DB_PASSWORD: "ref+vault://secret/app/restart#password", PROBE_ENV: "DB_PASSWORD" },
      ["--term-delay", "1500", "--term-exit", "7"],
    );
    await run.waitFor("ready");
    await kvPut("app/restart", { password: value(2, "RST") });
    // The restart has begun: the old app got its TERM and takes 1.5 s to go.
    await run.waitFor("signal", 1, 20_000, "SIGTERM");
    run.kill("SIGTERM");
    const result = await run.result;
    expect(result.code).toBe(7);
    expect(run.of("start")).toHaveLength(1);
    expect(linesWith(result.stderr, "restarting the command")).toHaveLength(1);
  });

  it("the old app ignores TERM and is killed at --stop-timeout while secretwrap is being stopped: 128+9, no new app", async () => {
    const dir = scratch();
    await kvPut("app/restart-kill", { password: value(1, "RSK") });
    const run = startWatched(
      dir,
      ["run", "--watch", "--refresh-interval", "1s", "--stop-timeout", "1500ms"],
      {
        ...tokenEnv(),
        DB_PASSWORD: "ref+vault://secret/app/restart-kill#password",
        PROBE_ENV: "DB_PASSWORD",
      },
      ["--term-delay", "60000"],
    );
    await run.waitFor("ready");
    await kvPut("app/restart-kill", { password: value(2, "RSK") });
    await run.waitFor("signal", 1, 20_000, "SIGTERM");
    run.kill("SIGTERM");
    const result = await run.result;
    expect(result.code).toBe(137);
    expect(run.of("start")).toHaveLength(1);
  });
});

describe("fail closed over time: a rotation the app cannot use", () => {
  it("E10: a new version without the selected field: the app keeps its whole set (no half-swap, no signal), warned once; the next good version is delivered", async () => {
    const dir = scratch();
    const v1 = { cert: value(1, "FLDC"), key: value(1, "FLDK") };
    await kvPut("app/field", v1);
    const run = startWatched(
      dir,
      ["run", "--watch", "--refresh-interval", "500ms"],
      {
        ...tokenEnv(),
        CERT_FILE: "ref+vault://secret/app/field#cert",
        KEY_FILE: "ref+vault://secret/app/field#key",
        PROBE_READ: "CERT_FILE,KEY_FILE",
      },
      ["--term-exit", "0"],
    );
    const [start] = await run.waitFor("ready").then(() => run.of("start"));
    const paths = start?.paths ?? {};
    // The rotation dropped "key": cert alone would be new, but the set stays whole and old.
    const broken = await kvPut("app/field", { cert: value(2, "FLDC") });
    await waitUntil(
      "the warning",
      () => linesWith(run.stderr(), "the app keeps the values it has").length > 0,
    );
    await waitUntil(
      "two more checks",
      () =>
        vault.server.requests.filter((r) => r.time >= broken && apiPath(r) === "secret/metadata/app/field")
          .length >= 3,
    );
    expect(readFileSync(paths["CERT_FILE"] ?? "", "utf8")).toBe(v1.cert);
    expect(readFileSync(paths["KEY_FILE"] ?? "", "utf8")).toBe(v1.key);
    expect(run.of("signal")).toEqual([]);
    const v3 = { cert: value(3, "FLDC"), key: value(3, "FLDK") };
    await kvPut("app/field", v3);
    await run.waitFor("read");
    const read = run.of("read").at(-1)?.files ?? {};
    expect([read["CERT_FILE"]?.sha, read["KEY_FILE"]?.sha]).toEqual([sha(v3.cert), sha(v3.key)]);
    run.kill("SIGTERM");
    const result = await run.result;
    expect(result.code).toBe(0);
    expect(run.of("signal", "SIGHUP")).toHaveLength(1);
    expect(linesWith(result.stderr, "the app keeps the values it has")).toHaveLength(1);
  });
});

describe("E15: the wall clock jumps", () => {
  const cc = (() => {
    try {
      execFileSync("cc", ["--version"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  })();

  /** The clock shim (test/fixtures/clock-shim.c) built into `dir`; its offset file starts at 0. */
  function clockShim(dir: string): { env: Record<string, string>; jump: (seconds: number) => void } {
    const library = join(dir, "clock-shim.so");
    execFileSync("cc", [
      "-shared",
      "-fPIC",
      "-O2",
      "-o",
      library,
      join(REPO, "test/fixtures/clock-shim.c"),
      "-ldl",
    ]);
    const offset = join(dir, "clock-offset");
    writeFileSync(offset, "0");
    return {
      env: { LD_PRELOAD: library, CLOCK_SHIM_FILE: offset },
      jump: (seconds) => writeFileSync(offset, String(seconds)),
    };
  }

  it.skipIf(!cc)(
    "E15: an hour forward, then two back, while a 6 s lease is renewed: no storm, no early or missed renewal, the credential always valid",
    async () => {
      const dir = scratch();
      const shim = clockShim(dir);
      const run = startWatched(
        dir,
        ["run", "--watch"],
        {
          ...tokenEnv(),
          ...shim.env,
          PG_PASSWORD_FILE: "ref+vault://database/creds/clock#password",
          PROBE_READ: "PG_PASSWORD_FILE",
        },
        ["--term-exit", "0"],
      );
      await run.waitFor("ready");
      const started = Date.now();
      const invalid: string[] = [];
      let jumped = 0;
      while (Date.now() - started < 14_000) {
        if (jumped === 0 && Date.now() - started > 2_000) shim.jump(++jumped && 3600);
        if (jumped === 1 && Date.now() - started > 6_000) shim.jump(++jumped && -3600);
        const held = leaseOf("database/creds/clock", run.latestRead()?.files?.["PG_PASSWORD_FILE"]);
        if (held === undefined || !vault.credentialValid(held.credentials))
          invalid.push(`at ${Date.now() - started}ms`);
        await sleep(200);
      }
      run.kill("SIGTERM");
      const result = await run.result;
      expect(invalid).toEqual([]);
      expect(result.code).toBe(0);
      const renewals = vault.eventsOf("lease-renew", "database/creds/clock");
      // 14 s of a 6 s lease renewed at about 4 s: 3 or 4 renewals (not a storm, none missed), each granted.
      expect(renewals.length).toBeGreaterThanOrEqual(3);
      expect(renewals.length).toBeLessThanOrEqual(5);
      expect(renewals.filter((e) => e.refused !== undefined)).toEqual([]);
      expect(run.of("signal")).toEqual([expect.objectContaining({ signal: "SIGTERM" })]);
    },
  );

  it.skipIf(!cc)(
    "E15: the clock steps an hour forward while a renewal is being retried (Vault briefly 503): the retries go on by the monotonic clock, the lease is renewed, the app keeps running",
    async () => {
      const dir = scratch();
      const shim = clockShim(dir);
      const run = startWatched(
        dir,
        ["run", "--watch"],
        {
          ...tokenEnv(),
          ...shim.env,
          PG_PASSWORD_FILE: "ref+vault://database/creds/clockretry#password",
          PROBE_READ: "PG_PASSWORD_FILE",
        },
        ["--term-exit", "0"],
      );
      await run.waitFor("ready");
      const lease = vault.leases("database/creds/clockretry").at(-1);
      if (lease === undefined) throw new Error("no lease");
      // Renewals answer 503 until the clock has jumped and a retry has come after the jump.
      const renewsSince = (t: number) =>
        vault.server.requests.filter(
          (r) => r.time >= t && apiPath(r) === "sys/leases/renew" && r.body.includes(lease.id),
        );
      const from = Date.now();
      vault.server.script(
        (r) => apiPath(r) === "sys/leases/renew",
        [{ kind: "reply", reply: { status: 503, body: { errors: ["busy"] } } }],
        { forever: true },
      );
      await waitUntil("a failed renewal", () => renewsSince(from).length > 0, 20_000);
      const jumpedAt = Date.now();
      shim.jump(3600);
      // The shim rereads its offset within 20 ms; two retries after that have seen the new clock.
      await waitUntil(
        () => `two retries after the jump: ${run.stderr()}`,
        () => renewsSince(jumpedAt + 50).length >= 2 || run.of("signal", "SIGTERM").length > 0,
        20_000,
      );
      vault.server.clearFaults();
      await waitUntil(
        () => `a granted renewal: ${run.stderr()}`,
        () =>
          vault.eventsOf("lease-renew", "database/creds/clockretry").some((e) => e.refused === undefined) ||
          run.of("signal", "SIGTERM").length > 0,
        20_000,
      );
      expect(run.of("signal", "SIGTERM")).toEqual([]);
      expect(vault.credentialValid(lease.credentials)).toBe(true);
      run.kill("SIGTERM");
      const result = await run.result;
      expect(result.code).toBe(0);
    },
  );
});

describe("E10: refresh fails", () => {
  it("E10: 500s then 403s on the version check and the read: old files kept, no signal, retried each interval; then it recovers", async () => {
    const dir = scratch();
    const v1 = { cert: value(1, "E10C"), key: value(1, "E10K") };
    await kvPut("app/e10", v1);
    const run = startWatched(
      dir,
      ["run", "--watch", "--refresh-interval", "1s", "--timeout", "2s"],
      {
        ...tokenEnv(),
        CERT_FILE: "ref+vault://secret/app/e10#cert",
        KEY_FILE: "ref+vault://secret/app/e10#key",
        PROBE_READ: "CERT_FILE,KEY_FILE",
      },
      ["--term-exit", "0"],
    );
    const [start] = await run.waitFor("ready").then(() => run.of("start"));
    const certPath = start?.paths?.["CERT_FILE"] ?? "";
    const onE10 = (r: { method: string; path: string }): boolean =>
      r.method === "GET" && /\/v1\/secret\/(metadata|data)\/app\/e10/.test(r.path);
    const refreshWarnings = (): number => linesWith(run.stderr(), "could not refresh").length;

    for (const status of [500, 403]) {
      vault.server.clearFaults();
      vault.server.script(
        onE10,
        [{ kind: "reply", reply: { status, body: { errors: [`fault ${status}`] } } }],
        { forever: true },
      );
      const before = refreshWarnings();
      const from = Date.now();
      // A rotation the failing checks cannot see.
      await kvPut("app/e10", { cert: value(status, "E10C"), key: value(status, "E10K") });
      await waitUntil(`two failed refreshes (${status})`, () => refreshWarnings() >= before + 2, 30_000);
      expect(readFileSync(certPath, "utf8")).toBe(v1.cert);
      expect(run.of("signal")).toEqual([]);
      const requests = vault.server.requests.filter((r) => r.time >= from && onE10(r));
      const cycles = refreshWarnings() - before;
      // 403 is final: one request per check. 500 is retried within --timeout, with backoff.
      if (status === 403) expect(requests.length).toBeLessThanOrEqual(cycles + 1);
      else expect(requests.length).toBeLessThan(cycles * 20);
    }
    vault.server.clearFaults();
    await run.waitFor("signal", 1, 20_000, "SIGHUP");
    const read = (await run.waitFor("read")).at(-1)?.files ?? {};
    expect(read["CERT_FILE"]?.tag).toBe("v403");
    expect(read["KEY_FILE"]?.tag).toBe("v403");
    await sleep(1_500);
    expect(run.of("signal", "SIGHUP")).toHaveLength(1);
    run.kill("SIGTERM");
    const result = await run.result;
    expect(result.code).toBe(0);
    expect(
      scanForCanaries(allSecrets(), {
        texts: { stderr: result.stderr, stdout: result.stdout },
        paths: [dir],
      }),
    ).toEqual([]);
  });
});
