// The README's "Long-running apps" example, end to end on the built CLI: examples/watch/secretwrap.yaml
// parses and its reference resolves (`check`), and the walkthrough does what the README shows: under
// `run --watch` a rewritten secret file reaches the app as a SIGHUP and a reload of the same path, and a
// TERM ends the app, the run (the app's exit code) and its secrets dir. Never a value in any output.
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { scanForCanaries } from "../helpers/canary.ts";
import { runCli, startCli } from "../helpers/cli.ts";
import { NODES, REPO } from "../helpers/nodes.ts";
import { parseJson } from "../../src/json.ts";

const CONFIG = "examples/watch/secretwrap.yaml";
const APP = "examples/watch/app.mjs";
const devValue = (version: number): string => `dev-token-v${version}-not-a-real-secret`;

const work = mkdtempSync(join(tmpdir(), "secretwrap-e2e-watch-example-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Resolves once `read()` matches `pattern`, or rejects after `timeoutMs` naming what it saw. */
async function waitFor(read: () => string, pattern: RegExp, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!pattern.test(read())) {
    if (Date.now() > until) throw new Error(`no ${String(pattern)} within ${timeoutMs}ms in:\n${read()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.each(NODES)("the --watch example under $name", (node) => {
  it("check: the example's config parses and its reference resolves, as a 0400 file", async () => {
    const result = await runCli(["check", "--config", CONFIG, "--json"], { node });
    expect(result.code, result.stderr).toBe(0);
    const report = parseJson(result.stdout) as {
      ok: boolean;
      secrets: { name: string; status: string; target: string }[];
    };
    expect(report.ok).toBe(true);
    expect(report.secrets.map((s) => [s.name, s.status, s.target])).toEqual([
      ["API_CREDENTIALS_FILE", "ok", "file:API_CREDENTIALS"],
    ]);
  });

  it("run --watch: a rewritten secret reaches the app as one SIGHUP and a reload; TERM ends it all", async () => {
    // A copy of the example, so rotate.mjs rewrites the copy's secret, never the repository's; the
    // config's ./examples/watch/… reference is relative to the working directory, as in the README.
    const root = mkdtempSync(join(work, `${node.name}-`));
    cpSync(join(REPO, "examples/watch"), join(root, "examples/watch"), { recursive: true });
    const running = startCli(
      ["run", "--watch", "--refresh-interval", "200ms", "--config", CONFIG, "--", "node", APP],
      { node, cwd: root, timeoutMs: 40_000 },
    );
    let stdout = "";
    let stderr = "";
    // startCli collects both for the result; these copies are read while the run goes on.
    running.child.stdout?.on("data", (chunk: string) => (stdout += chunk));
    running.child.stderr?.on("data", (chunk: string) => (stderr += chunk));
    try {
      await waitFor(() => stdout, /app: loaded: credentials version 1, token of 30 characters/);
      const path = /API_CREDENTIALS_FILE=(\S+)/.exec(stdout)?.[1] ?? "";
      expect(path).toMatch(/^\/dev\/shm\/secretwrap-\w+\/API_CREDENTIALS$/);

      execFileSync(node.bin, [join(root, "examples/watch/rotate.mjs")]);
      await waitFor(() => stdout, /app: SIGHUP: reloaded: credentials version 2, token of 30 characters/);
      await waitFor(() => stderr, /rotated API_CREDENTIALS_FILE/);
      // The app read the new version at the path it was given at start: swapped in behind it.
      expect(existsSync(path)).toBe(true);
      // Checks that find nothing new tell the app nothing: one SIGHUP for one rotation, no restart.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(stdout.match(/SIGHUP/g)).toHaveLength(1);
      expect(stdout.match(/started as pid/g)).toHaveLength(1);

      running.child.kill("SIGTERM");
      const result = await running.result;
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain("app: SIGTERM: stopping (last credentials version 2)");
      expect(existsSync(path), "the secrets dir is removed when the app has exited").toBe(false);
      const leaked = scanForCanaries([devValue(1), devValue(2)], {
        texts: { stdout: result.stdout, stderr: result.stderr },
      });
      expect(leaked).toEqual([]);
    } finally {
      running.child.kill("SIGKILL");
    }
  });
});
