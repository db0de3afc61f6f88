// R12 end to end: whatever sizes the resolved environment has, bin/secretwrap either starts the
// command or exits 69 naming the largest variables and hinting _FILE: never Node's abort (134)
// or an internal error (70), under Node 24 (exec, and --supervise's hand-over) and Node 20 (spawn).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { CLI, pathFor, runCli } from "../helpers/cli.ts";
import { NODES, START_PATHS } from "../helpers/nodes.ts";
import { MAX_ARG_STRLEN } from "../../src/limits.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-e2e-limits-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function secretOfSize(bytes: number): string {
  const path = join(work, `v${bytes}`);
  writeFileSync(path, "s".repeat(bytes));
  return `ref+file://${path}`;
}

describe.each(START_PATHS)("R12 under $label", ({ node, extra }) => {
  it("R12: a variable whose NAME=value is exactly at the kernel's limit starts; one byte more is 69", async () => {
    const name = "EDGE";
    const fits = MAX_ARG_STRLEN - 1 - name.length - 1;
    const ok = await runCli(["run", ...extra, "--", "true"], { node, env: { [name]: secretOfSize(fits) } });
    expect(ok.code, ok.stderr).toBe(0);
    const over = await runCli(["run", ...extra, "--", "true"], {
      node,
      env: { [name]: secretOfSize(fits + 1) },
    });
    expect(over.code, over.stderr).toBe(69);
    expect(over.stderr).toContain(`EDGE=value is ${fits + name.length + 2} bytes`);
    expect(over.stderr).toMatch(/X_FILE/);
  });

  it("R12: 25 variables of 100 KB exit 69 naming the largest ones, never 134 or 70", async () => {
    const env: Record<string, string> = {};
    for (let i = 0; i < 25; i++) env[`BIG_${i}`] = secretOfSize(100_000 + i);
    const r = await runCli(["run", ...extra, "--", "true"], { node, env });
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(69);
    expect(r.stderr).toMatch(/largest variables: BIG_24 \(97\.7 KiB\), BIG_23 \(97\.7 KiB\), BIG_22/);
    expect(r.stderr).toMatch(/X_FILE/);
  });

  it("R12: random sets of sizes around the total limit either start or exit 69", async () => {
    // 2 MiB with the usual 8 MiB stack: 18–24 variables of 80–120 KB straddle it.
    for (let trial = 0; trial < 4; trial++) {
      const env: Record<string, string> = {};
      const count = 18 + Math.floor(Math.random() * 7);
      for (let i = 0; i < count; i++)
        env[`R${i}`] = secretOfSize(80_000 + Math.floor(Math.random() * 40_000));
      const r = await runCli(["run", ...extra, "--", "true"], { node, env });
      expect(r.signal, r.stderr).toBeNull();
      expect([0, 69], r.stderr).toContain(r.code);
      if (r.code === 69) expect(r.stderr).toMatch(/largest variables: R\d+ .*X_FILE|X_FILE/s);
    }
  });
});

// Node's own restart without its knobs (src/launch/relaunch.ts) moves them to SECRETWRAP_APP_<NAME>
// and adds `--`: at the kernel's real boundary for the caller's command, it must refuse cleanly too.
describe.each(NODES)("R12 under $name: Node's restart without its knobs", (node) => {
  const padding = (bytes: number): Record<string, string> => {
    const env: Record<string, string> = { NODE_EXTRA_CA_CERTS: "/etc/ssl/certs/ca-certificates.crt" };
    for (let i = 0; bytes > 0; i++, bytes -= 100_000) env[`PAD${i}`] = "x".repeat(Math.min(100_000, bytes));
    return env;
  };
  // The caller's exec of bin/secretwrap itself (a #! script: /usr/bin/env, then Node) at the kernel's
  // real boundary: E2BIG there is the caller's; whatever starts must end cleanly.
  const run = (bytes: number): SpawnSyncReturns<string> =>
    spawnSync(CLI, ["run", "--", "true"], {
      env: { PATH: pathFor(node), HOME: "/root", LANG: "C.UTF-8", ...padding(bytes) },
      encoding: "utf8",
      timeout: 30_000,
    });
  const clean = (r: SpawnSyncReturns<string>, context: string): void => {
    expect(r.signal, context).toBeNull();
    expect([0, 69], context).toContain(r.status);
    expect(r.stderr, context).not.toMatch(
      /^\s+at |node:internal|E2BIG|Native stack|could not start Node again/m,
    );
  };

  it("R12: at the kernel's boundary for the caller's command the restart exits 69 naming the largest variables, never 134, 70 or a stack", () => {
    let fits = 0;
    let refused = 3 * 1024 * 1024;
    while (refused - fits > 1) {
      const mid = Math.floor((fits + refused) / 2);
      const r = run(mid);
      // The caller's exec of the script, or env(1)'s of Node, was refused: Node never started.
      const tooLarge =
        (r.error as NodeJS.ErrnoException | undefined)?.code === "E2BIG" ||
        (r.status === 126 && r.stderr.startsWith("/usr/bin/env: "));
      if (tooLarge) refused = mid;
      else {
        clean(r, `${mid} bytes: ${r.stderr}`);
        fits = mid;
      }
    }
    expect(fits).toBeGreaterThan(100_000);
    // Just under the boundary: the restart needs more (its Node path, `--`, SECRETWRAP_APP_), the
    // exec-size rule keeps a few hundred bytes spare.
    for (const below of [0, 1, 7, 17, 18, 19, 64, 400, 4096]) {
      const r = run(fits - below);
      const context = `${below} below: ${r.stderr}`;
      clean(r, context);
      if (below === 0) {
        expect(r.status, context).toBe(69);
        expect(r.stderr).toMatch(
          /NODE_EXTRA_CA_CERTS must be kept out of secretwrap .* starting Node again needs \d+ bytes, more than the \d+ the kernel allows .*largest variables: PAD\d+ \(97\.7 KiB\)/,
        );
        expect(r.stderr).toContain("ulimit -s");
      }
    }
  });
});
