// Attacks on run --watch and render --watch (#15) that found a break, each kept as the test that proved
// it: the built CLI against the fake servers, the watch probe as the app. Every wait has a generous
// deadline; the assertions are orders and counts, not wall-clock values.
//
// SECRETWRAP_ATTACK_CLI=<shim> runs the CLI through a shim (it drops the repo's bin/secretwrap argument
// and runs another build), for trying a fix before dist/ is rebuilt.
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { canary, scanForCanaries } from "../helpers/canary.ts";
import type { CliOptions } from "../helpers/cli.ts";
import { scratchDirs } from "../helpers/scratch.ts";
import { FakeVault } from "../servers/vault.ts";
import {
  sleep,
  startWatched,
  stopLeftovers,
  vaultApi,
  waitUntil,
  type WatchRecord,
} from "../fixtures/watch-run.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-watch-attack-"));
/** render --out must be tmpfs: a dir of this file's own under /dev/shm. */
const shm = mkdtempSync("/dev/shm/secretwrap-test-watch-attack-");
const scratch = scratchDirs(work);
const shim = process.env["SECRETWRAP_ATTACK_CLI"];
const via: CliOptions = shim === undefined ? {} : { prefix: [shim] };

let vault: FakeVault;
let token: string;
const planted: string[] = [];
const sha = (text: string): string => createHash("sha256").update(text).digest("hex");

beforeAll(async () => {
  vault = await FakeVault.start();
  await vault.mountKv("secret", 2);
  token = await vault.createToken(["database/creds/*", "sys/leases/revoke", "secret/*"], 3600);
  planted.push(token);
});

afterEach(async () => {
  await stopLeftovers();
  vault.server.clearFaults();
});

afterAll(async () => {
  await vault.close();
  rmSync(work, { recursive: true, force: true });
  rmSync(shm, { recursive: true, force: true });
});

describe("a leased credential whose replacement cannot reach the app", () => {
  // The lease the app holds is not renewable (or capped): the watch reads new credentials before it
  // ends. The new ones cannot be delivered (a NUL in an env value, a #field gone), so the app keeps the
  // old ones, and nothing watched the old lease any more: once it ended, the app ran on dead
  // credentials while --on-expiry exit promises it is stopped first.
  const cases = [
    {
      label: "a NUL in the new env value",
      env: { PG_PASSWORD: "ref+vault://database/creds/nul#password", PROBE_ENV: "PG_PASSWORD" },
      role: "nul",
      later: (password: string) => ({ username: "u", password: `${password}\0` }),
      held: (start: WatchRecord | undefined) => start?.env?.["PG_PASSWORD"]?.sha,
    },
    {
      label: "the #field gone from the new file value",
      env: {
        PG_PASSWORD_FILE: "ref+vault://database/creds/nofield#password",
        PROBE_READ: "PG_PASSWORD_FILE",
      },
      role: "nofield",
      later: (password: string) => ({ username: "u", pass: password }),
      held: (start: WatchRecord | undefined) => start?.files?.["PG_PASSWORD_FILE"]?.sha,
    },
    {
      // Good new credentials, but the policy neither restarts nor stops the app: it keeps its env value.
      label: "--on-change none with an env target",
      env: { PG_PASSWORD: "ref+vault://database/creds/none#password", PROBE_ENV: "PG_PASSWORD" },
      args: ["--on-change", "none"],
      role: "none",
      later: (password: string) => ({ username: "u", password }),
      held: (start: WatchRecord | undefined) => start?.env?.["PG_PASSWORD"]?.sha,
    },
    {
      label: "--on-change signal:USR2 with an env target",
      env: { PG_PASSWORD: "ref+vault://database/creds/usr2#password", PROBE_ENV: "PG_PASSWORD" },
      args: ["--on-change", "signal:USR2"],
      role: "usr2",
      later: (password: string) => ({ username: "u", password }),
      held: (start: WatchRecord | undefined) => start?.env?.["PG_PASSWORD"]?.sha,
    },
  ];
  it.each(cases)("$label: --on-expiry exit stops the app before the lease it holds ends (69)", async (c) => {
    let n = 0;
    vault.addDatabaseRole(c.role, {
      ttl: 8,
      maxTtl: 8,
      renewable: false,
      credentials: () => {
        const password = canary(`PG_${c.role.toUpperCase()}`);
        planted.push(password);
        // The first credentials are fine; every later one cannot be delivered.
        return ++n === 1 ? { username: "u", password } : c.later(password);
      },
    });
    const dir = scratch();
    const path = `database/creds/${c.role}`;
    const run = startWatched(
      dir,
      ["run", "--watch", ...(c.args ?? [])],
      { VAULT_ADDR: vault.url, VAULT_TOKEN: token, ...c.env },
      ["--term-exit", "0"],
      via,
    );
    const [start] = await run.waitFor("start");
    const first = vault.leases(path)[0];
    if (first === undefined) throw new Error("no lease");
    expect(c.held(start)).toBe(sha(first.credentials["password"] ?? ""));
    // A replacement was read (and could not be delivered).
    await waitUntil(
      () => `a second lease; stderr:\n${run.stderr()}`,
      () => vault.leases(path).length >= 2,
    );
    await waitUntil("the first lease to end", () => !vault.credentialValid(first.credentials), 20_000);
    const ended = await Promise.race([run.result, sleep(8_000).then(() => undefined)]);
    expect(
      ended,
      `the app still runs on credentials whose lease has ended; stderr:\n${run.stderr()}`,
    ).toBeDefined();
    expect(ended?.code).toBe(69);
    const term = run.of("signal", "SIGTERM");
    expect(term).toHaveLength(1);
    expect(term[0]?.t ?? Infinity).toBeLessThan(first.expiresAt);
    expect(ended?.stderr).toMatch(/the app holds ends/);
    expect(
      scanForCanaries(planted, {
        texts: { stderr: ended?.stderr ?? "", stdout: ended?.stdout ?? "" },
        paths: [dir],
      }),
    ).toEqual([]);
  });
});

/** Whether a process exists (a zombie counts as gone: it runs nothing). */
function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "latin1"));
  } catch {
    return false;
  }
}

describe("render --watch --on-change exec:CMD and a stop signal", () => {
  // A notifier that hangs (a sidecar's curl to an app that is down) held TERM up for as long as it
  // ran (up to the 60 s exec timeout): secretwrap waited for it before revoking and exiting, never
  // told it to stop, and left its children running. An orchestrator's grace period (30 s) then ends
  // in a SIGKILL: no revocation.
  it("TERM stops a running exec:CMD and its children, and render exits 0 without waiting for them", async () => {
    const dir = scratch();
    const source = join(dir, "token");
    writeFileSync(source, `v1 ${canary("RENDER_EXEC")}`);
    const out = join(mkdtempSync(join(shm, "render-")), "out");
    const pids = join(dir, "pids");
    // sh's pid, then its background child's: both must be gone once secretwrap has exited.
    const cmd = `exec:echo $$ > ${pids}; sleep 120 & echo $! >> ${pids}; wait`;
    const run = startWatched(
      dir,
      ["render", "--watch", "--out", out, "--refresh-interval", "1s", "--on-change", cmd],
      { TOKEN: `ref+file://${source}` },
      null,
      via,
    );
    await waitUntil(
      () => `the first set; stderr:\n${run.stderr()}`,
      () => existsSync(join(out, "TOKEN")),
    );
    writeFileSync(source, `v2 ${canary("RENDER_EXEC")}`);
    const [shell, sleeper] = await waitUntil(
      () => `exec:CMD to run; stderr:\n${run.stderr()}`,
      () => {
        const listed = existsSync(pids)
          ? readFileSync(pids, "utf8")
              .split("\n")
              .filter((l) => l !== "")
          : [];
        return listed.length === 2 ? listed.map(Number) : undefined;
      },
    );
    if (shell === undefined || sleeper === undefined) throw new Error("no pids");
    expect(alive(shell) && alive(sleeper)).toBe(true);
    run.kill("SIGTERM");
    const ended = await Promise.race([run.result, sleep(20_000).then(() => undefined)]);
    expect(ended, `render --watch still runs 20 s after TERM; stderr:\n${run.stderr()}`).toBeDefined();
    expect(ended?.code).toBe(0);
    await waitUntil("exec:CMD and its child to be gone", () => !alive(shell) && !alive(sleeper), 10_000);
  });
});

describe("a change that arrives while the app restarts", () => {
  // An env change restarts the app; its old instance takes a while to stop (a graceful shutdown). A
  // file change found meanwhile was delivered right after the new app was spawned: a SIGHUP within
  // milliseconds of its start, before it could install a handler, and SIGHUP's default action ended it
  // (secretwrap exited 129, the restarted app never ran).
  it("the restarted app starts with both changes and is not killed by a SIGHUP at its start", async () => {
    const kv = async (path: string, v: string): Promise<void> => {
      const { status } = await vaultApi(vault.url, vault.rootToken, "POST", `secret/data/${path}`, {
        data: { v },
      });
      expect(status).toBe(200);
    };
    const value = (tag: number, label: string): string => {
      const c = canary(label);
      planted.push(c);
      return `v${tag} ${c}`;
    };
    await kv("restart/env", value(1, "RESTART_ENV"));
    await kv("restart/file", value(1, "RESTART_FILE"));
    const dir = scratch();
    const run = startWatched(
      dir,
      ["run", "--watch", "--refresh-interval", "1s"],
      {
        VAULT_ADDR: vault.url,
        VAULT_TOKEN: token,
        DB_USER: "ref+vault://secret/restart/env#v",
        TLS_FILE: "ref+vault://secret/restart/file#v",
        PROBE_ENV: "DB_USER",
        PROBE_READ: "TLS_FILE",
      },
      // The old app takes 3 s to stop after SIGTERM.
      ["--term-delay", "3000"],
      via,
    );
    await run.waitFor("start");
    await kv("restart/env", value(2, "RESTART_ENV"));
    await run.waitFor("signal", 1, 20_000, "SIGTERM");
    // The restart is under way: the old app is stopping.
    await kv("restart/file", value(2, "RESTART_FILE"));
    const starts = await run.waitFor("start", 2, 20_000);
    const restarted = starts[1];
    if (restarted === undefined) throw new Error("no second start");
    await run.waitFor("ready", 2, 20_000);
    // It read the new file (at start, or after a SIGHUP it survived) and holds the new env value.
    await waitUntil(
      () => `the restarted app to read TLS_FILE v2; stderr:\n${run.stderr()}`,
      () => run.latestRead(restarted.pid)?.files?.["TLS_FILE"]?.tag === "v2",
    );
    expect(restarted.env?.["DB_USER"]?.tag).toBe("v2");
    await sleep(1_500); // a refresh or two more: nothing else happens
    expect(run.of("start")).toHaveLength(2);
    run.kill("SIGTERM");
    const result = await run.result;
    expect(result.code, `stderr:\n${result.stderr}`).toBe(0);
    expect(
      scanForCanaries(planted, { texts: { stderr: result.stderr, stdout: result.stdout }, paths: [dir] }),
    ).toEqual([]);
  });
});

describe("render --watch --on-change exec:CMD and core dumps", () => {
  // secretwrap's own process has coredump_filter 0 (it holds every secret); the app gets the caller's
  // filter back. exec:CMD is the sidecar's app-side command: it inherited 0, so its cores (of a crash
  // of the notifier) lost every mapping the caller asked for.
  it("exec:CMD runs with the caller's coredump_filter, not secretwrap's 0", async () => {
    const caller = readFileSync("/proc/self/coredump_filter", "latin1").trim();
    expect(caller).not.toBe("00000000");
    const dir = scratch();
    const source = join(dir, "token");
    writeFileSync(source, `v1 ${canary("RENDER_CORE")}`);
    const out = join(mkdtempSync(join(shm, "render-")), "out");
    const seen = join(dir, "filter");
    const run = startWatched(
      dir,
      [
        "render",
        "--watch",
        "--out",
        out,
        "--refresh-interval",
        "1s",
        "--on-change",
        `exec:cat /proc/self/coredump_filter > ${seen}`,
      ],
      { TOKEN: `ref+file://${source}` },
      null,
      via,
    );
    await waitUntil(
      () => `the first set; stderr:\n${run.stderr()}`,
      () => existsSync(join(out, "TOKEN")),
    );
    writeFileSync(source, `v2 ${canary("RENDER_CORE")}`);
    const filter = await waitUntil(
      () => `exec:CMD to run; stderr:\n${run.stderr()}`,
      () => (existsSync(seen) ? readFileSync(seen, "latin1").trim() || undefined : undefined),
    );
    run.kill("SIGTERM");
    expect((await run.result).code).toBe(0);
    expect(filter).toBe(caller);
  });
});
