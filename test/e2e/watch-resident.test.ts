// A watch stays resident for the app's life, so secretwrap's own V8 runs without its optimising
// compilers from the first line of bin.ts (src/watch/resident.ts): ~6 MB of Node's code they would
// page in, and the optimised code itself (issue #15's ≤ 60 MB). V8's --trace-opt prints every Maglev
// and TurboFan job to stdout; the app, started without it, prints nothing.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { NODE24, REPO } from "../helpers/nodes.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-resident-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const SECRETS = 20;
const secrets: Record<string, string> = {};
for (let i = 0; i < SECRETS; i++) {
  writeFileSync(join(work, `s${i}`), `value-${i}`, { mode: 0o600 });
  secrets[i % 2 === 0 ? `S${i}` : `S${i}_FILE`] = `ref+file://${join(work, `s${i}`)}`;
}
const APP = [NODE24.bin, "-e", "setTimeout(() => {}, 1500)"];
let dirs = 0;

/** Optimising compile jobs of secretwrap's own process (Maglev or TurboFan), and its exit status. */
function optimised(
  args: readonly string[],
  options: { env?: Record<string, string>; preload?: string; stopAfterMs?: number } = {},
) {
  const result = spawnSync(
    NODE24.bin,
    [
      "--trace-opt",
      ...(options.preload === undefined ? [] : ["--import", options.preload]),
      join(REPO, "dist/bin.js"),
      ...args,
    ],
    {
      encoding: "utf8",
      env: { PATH: process.env["PATH"] ?? "", ...secrets, ...options.env },
      // render --watch runs until stopped: TERM (exit 0) after its checks have run a while. A run
      // ends with its app.
      timeout: options.stopAfterMs ?? 60_000,
      killSignal: "SIGTERM",
    },
  );
  const jobs = result.stdout.split("\n").filter((l) => /compiling method .*target (MAGLEV|TURBOFAN)/.test(l));
  return { jobs: jobs.length, status: result.status, stderr: result.stderr };
}

const secretsDir = (): string[] => ["--secrets-dir", join(work, `d${++dirs}`), "--allow-disk"];
const fastWatch = ["--watch", "--refresh-interval", "5ms"];

describe("a watch runs secretwrap's V8 without its optimising compilers", () => {
  it("the check can see them: a one-shot check compiles some", () => {
    const { jobs, status, stderr } = optimised(["check"]);
    expect(status, stderr).toBe(0);
    expect(jobs).toBeGreaterThan(0);
  });

  it("the check can see them in a watch too: with secretwrap's flags ignored, the same watch compiles some", () => {
    const preload = join(REPO, "test/fixtures/v8-flags-ignored.mjs");
    const { jobs, status, stderr } = optimised(["run", ...fastWatch, ...secretsDir(), "--", ...APP], {
      preload,
    });
    expect(status, stderr).toBe(0);
    expect(jobs).toBeGreaterThan(0);
  });

  it.each([
    ["run --watch", ["run", ...fastWatch], {}],
    ["run with SECRETWRAP_WATCH=true", ["run", "--refresh-interval", "5ms"], { SECRETWRAP_WATCH: "true" }],
  ] as const)("%s: none, from start-up on, over many checks", (_, args, env) => {
    const { jobs, status, stderr } = optimised([...args, ...secretsDir(), "--", ...APP], { env });
    expect(status, stderr).toBe(0);
    expect(jobs).toBe(0);
  });

  it("render --watch: none", () => {
    const { jobs, status, stderr } = optimised(["render", ...fastWatch, "--out", join(work, `o${++dirs}`)], {
      env: { SECRETWRAP_ALLOW_DISK: "true" },
      stopAfterMs: 2_500,
    });
    expect(status, stderr).toBe(0);
    expect(jobs).toBe(0);
  });
});
