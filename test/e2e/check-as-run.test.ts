// Smaller thing of issue 13 (DESIGN.md §1): `check` exits as `run` would fail. It runs every local check
// of run (the secrets dir; the size of the app's environment) without writing anything.
import { existsSync, mkdirSync, mkdtempSync, rmSync, statfsSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.ts";
import { REPO } from "../helpers/nodes.ts";

const TMPFS_MAGIC = 0x01021994;
const onDisk = (path: string): boolean => statfsSync(path).type !== TMPFS_MAGIC;
// A directory on a real (not memory-backed) filesystem: the temp dir, else the repository's.
const diskParent = onDisk(tmpdir()) ? tmpdir() : REPO;
const disk = mkdtempSync(join(diskParent, "secretwrap-e2e-check-as-run-"));
const shm = mkdtempSync("/dev/shm/secretwrap-test-check-as-run-");
afterAll(() => {
  rmSync(disk, { recursive: true, force: true });
  rmSync(shm, { recursive: true, force: true });
});

writeFileSync(join(shm, "v"), "value-of-a");
const fileSecret = { A_FILE: `ref+file://${shm}/v` };

interface Both {
  readonly check: number | null;
  readonly run: number | null;
  readonly checkJson: { ok: boolean; problems: { check: string; code: string }[] };
}

async function both(args: readonly string[], env: Record<string, string>): Promise<Both> {
  const check = await runCli(["check", ...args], { env });
  const json = await runCli(["check", "--json", ...args], { env });
  const run = await runCli(["run", ...args, "--", "true"], { env });
  return {
    check: check.code,
    run: run.code,
    checkJson: JSON.parse(json.stdout) as Both["checkJson"],
  };
}

describe("R13-small: check fails where run would", () => {
  it("R13-small: check fails where run would: a --secrets-dir on disk (existing, or to be created)", async () => {
    const existing = join(disk, "existing");
    mkdirSync(existing, { mode: 0o700 });
    const r = await both(["--secrets-dir", existing], fileSecret);
    expect(r).toMatchObject({ check: 73, run: 73 });
    expect(r.checkJson.ok).toBe(false);
    expect(r.checkJson.problems).toMatchObject([{ check: "secrets-dir", code: "NOT_TMPFS" }]);

    const fresh = join(disk, "fresh");
    const s = await both(["--secrets-dir", fresh], fileSecret);
    expect(s).toMatchObject({ check: 73, run: 73 });
    // Neither check nor run left a directory on disk.
    expect(existsSync(fresh)).toBe(false);
  });

  it("R13-small: check fails where run would: a --secrets-dir whose parent is missing", async () => {
    const dir = join(shm, "missing", "secrets");
    const r = await both(["--secrets-dir", dir], fileSecret);
    expect(r).toMatchObject({ check: 73, run: 73 });
    expect(r.checkJson.problems).toMatchObject([{ check: "secrets-dir", code: "OUTPUT_FAILED" }]);
    expect(existsSync(join(shm, "missing"))).toBe(false);
  });

  it("R13-small: check fails where run would: a symlinked --secrets-dir", async () => {
    const real = join(shm, "real");
    mkdirSync(real, { mode: 0o700 });
    const link = join(shm, "link");
    symlinkSync(real, link);
    const r = await both(["--secrets-dir", link], fileSecret);
    expect(r).toMatchObject({ check: 73, run: 73 });
    expect(r.checkJson.problems).toMatchObject([{ check: "secrets-dir", code: "OUTPUT_FAILED" }]);
  });

  it("R13-small: check fails where run would: an environment larger than the kernel's exec limit", async () => {
    // 90 env secrets of 100 KB: each fits one variable, together they are over 6 MiB.
    const big = join(shm, "big");
    writeFileSync(big, "x".repeat(100_000));
    const env = Object.fromEntries(Array.from({ length: 90 }, (_, i) => [`BIG_${i}`, `ref+file://${big}`]));
    const r = await both([], env);
    expect(r).toMatchObject({ check: 69, run: 69 });
    expect(r.checkJson.problems).toMatchObject([{ check: "environment", code: "VALUE_UNUSABLE" }]);
    const text = await runCli(["check"], { env });
    expect(text.stderr).toMatch(/largest variables: BIG_\d+/);
    // A set that fits passes both.
    const fits = Object.fromEntries(Object.entries(env).slice(0, 10));
    expect(await both([], fits)).toMatchObject({ check: 0, run: 0 });
  });
});
