// R7 of issue 13: the process that holds secrets cannot dump core, and the app's core dump settings
// stay as the caller set them. Real cores, written by the kernel: RLIMIT_CORE unlimited and a file
// core_pattern (the current one when it is a relative file name, else one set into a temp dir and put
// back afterwards), SIGSEGV while secretwrap waits on a hanging Vault with other secrets resolved.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canary } from "../helpers/canary.ts";
import { runCli, startCli } from "../helpers/cli.ts";
import { NODE24, NODES } from "../helpers/nodes.ts";
import { FakeVault } from "../servers/vault.ts";

const CORE_PATTERN = "/proc/sys/kernel/core_pattern";
// Cores land in `work` (on disk: a Node core is tens of MB); secrets dirs in `shm` (they must be tmpfs).
const work = mkdtempSync(join(tmpdir(), "secretwrap-cores-"));
const shm = mkdtempSync("/dev/shm/sw-cores-");

/** Makes cores land in `dir` (the crashing process's cwd); returns how to undo it, or why not. */
function fileCores(dir: string): { restore: () => void } | { skip: string } {
  let pattern: string;
  try {
    pattern = readFileSync(CORE_PATTERN, "utf8").trim();
  } catch {
    return { skip: `${CORE_PATTERN} is not readable` };
  }
  // A relative file pattern is resolved against the crashing process's cwd: nothing to change.
  if (!pattern.startsWith("|") && !pattern.includes("/")) return { restore: () => {} };
  try {
    writeFileSync(CORE_PATTERN, join(dir, "core.%p"));
  } catch {
    return { skip: `core_pattern is "${pattern}" and cannot be changed here (not root?)` };
  }
  return { restore: () => writeFileSync(CORE_PATTERN, pattern) };
}

const cores = (dir: string): Buffer[] =>
  readdirSync(dir)
    .filter((name) => name.startsWith("core"))
    .map((name) => readFileSync(join(dir, name)));

/** Runs argv with RLIMIT_CORE unlimited (and, if given, this coredump_filter), in `cwd`. */
function unlimited(filter?: string): string[] {
  const setFilter = filter === undefined ? "" : `echo ${filter} > /proc/self/coredump_filter; `;
  return ["sh", "-c", `ulimit -c unlimited; ${setFilter}exec "$0" "$@"`];
}

const exited = (child: ReturnType<typeof spawn>): Promise<NodeJS.Signals | null> =>
  new Promise((resolve) => child.on("close", (_code, signal) => resolve(signal)));

let setup: { restore: () => void } | { skip: string };
let vault: FakeVault;
beforeAll(async () => {
  setup = fileCores(work);
  vault = await FakeVault.start();
  // Every Vault request hangs: secretwrap waits, holding the token and what it already resolved.
  vault.server.script(() => true, [{ kind: "hang" }], { forever: true });
});
afterAll(async () => {
  if ("restore" in setup) setup.restore();
  await vault.server.close();
  rmSync(work, { recursive: true, force: true });
  rmSync(shm, { recursive: true, force: true });
});

describe("R7: the process that holds secrets cannot dump core", () => {
  it("R7: a SIGSEGV while waiting on Vault writes no core holding a resolved secret or the Vault token", async (ctx) => {
    if ("skip" in setup) ctx.skip(setup.skip);
    const dir = mkdtempSync(join(work, "run-"));
    const secrets = [canary("CORE_ENV"), canary("CORE_FILE")];
    writeFileSync(join(dir, "env-secret"), secrets[0] as string);
    writeFileSync(join(dir, "file-secret"), secrets[1] as string);

    // The control: the same Node holding a canary does dump it here, so the check below can fail.
    const control = canary("CORE_CONTROL");
    const controlDir = mkdtempSync(join(work, "control-"));
    const [sh, ...shArgs] = unlimited();
    const probe = spawn(
      sh as string,
      [
        ...shArgs,
        NODE24.bin,
        "-e",
        `globalThis.kept = [${JSON.stringify(control)}]; console.log("ready"); setInterval(() => {}, 1000)`,
      ],
      { cwd: controlDir, stdio: ["ignore", "pipe", "ignore"] },
    );
    await new Promise((resolve) => probe.stdout?.once("data", resolve));
    probe.kill("SIGSEGV");
    expect(await exited(probe)).toBe("SIGSEGV");
    const controlCores = cores(controlDir);
    expect(controlCores.length, "no core was written for the control process").toBeGreaterThan(0);
    expect(controlCores.some((core) => core.includes(control))).toBe(true);

    const running = startCli(["run", "--timeout", "60s", "--", "true"], {
      cwd: dir,
      prefix: unlimited(),
      env: {
        VAULT_ADDR: vault.url,
        VAULT_TOKEN: vault.rootToken,
        HELD: `ref+file://${join(dir, "env-secret")}`,
        HELD_FILE: `ref+file://${join(dir, "file-secret")}`,
        WAITING: "ref+vault://secret/app#password",
        SECRETWRAP_SECRETS_DIR: join(shm, "waiting"),
      },
    });
    const deadline = Date.now() + 20_000;
    while (vault.server.requests.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(vault.server.requests.length, "secretwrap never asked Vault").toBeGreaterThan(0);
    running.child.kill("SIGSEGV");
    const result = await running.result;
    expect(result.signal).toBe("SIGSEGV");
    const written = cores(dir);
    for (const core of written) {
      for (const value of [...secrets, vault.rootToken]) {
        expect(core.includes(value), "a core of secretwrap holds a secret or the Vault token").toBe(false);
      }
    }
    console.info(
      `R7: ${written.length} core(s) of secretwrap, ${written.map((c) => c.length).join(", ")} bytes`,
    );
  });

  it.each(
    NODES.flatMap((node) => [
      { label: `${node.name} exec or in-process`, node, extra: [] as string[] },
      ...(node.hasExecve ? [{ label: `${node.name} --supervise`, node, extra: ["--supervise"] }] : []),
    ]),
  )("R7: the app gets the caller's core dump filter and limit ($label)", async ({ node, extra }) => {
    const dir = mkdtempSync(join(work, "app-"));
    writeFileSync(join(dir, "secret"), canary("CORE_APP"));
    const report = ["sh", "-c", 'echo "filter=$(cat /proc/self/coredump_filter) limit=$(ulimit -c)"'];
    // Values other than the default (0x33), so a value the app got from anywhere else shows.
    for (const filter of ["0x23", "0x7f"]) {
      const result = await runCli(["run", ...extra, "--", ...report], {
        node,
        cwd: dir,
        prefix: unlimited(filter),
        env: {
          S_FILE: `ref+file://${join(dir, "secret")}`,
          SECRETWRAP_SECRETS_DIR: mkdtempSync(join(shm, "app-")) + "/secrets",
        },
      });
      expect(result.code, result.stderr).toBe(0);
      // What the caller's own process has, read the same way without secretwrap.
      const [sh, ...shArgs] = unlimited(filter);
      const callers = execFileSync(sh as string, [...shArgs, ...report], { encoding: "utf8" });
      expect(callers).not.toContain("filter=00000000");
      expect(result.stdout).toBe(callers);
    }
  });
});
