// A new provider is one folder plus one registry entry (issue 14): the test-only provider in
// test/fixtures/provider-echo is built in as one more entry of providers/registry.ts
// (SECRETWRAP_BUILD_EXTRA_PROVIDER, scripts/providers.mjs), into a build of its own, and that built CLI
// resolves it, checks its config block, keeps its variables from targets and names it in hints.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseJson } from "../../src/json.ts";
import { pathFor } from "../helpers/cli.ts";
import { NODE24, REPO } from "../helpers/nodes.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-e2e-echo-"));
const out = join(work, "dist");
afterAll(() => rmSync(work, { recursive: true, force: true }));

beforeAll(() => {
  const built = spawnSync(NODE24.bin, ["scripts/build.mjs", "--outdir", out], {
    cwd: REPO,
    env: { ...process.env, SECRETWRAP_BUILD_EXTRA_PROVIDER: "test/fixtures/provider-echo" },
    encoding: "utf8",
  });
  expect(built.stderr).toBe("");
  expect(built.status).toBe(0);
}, 120_000);

function cli(args: readonly string[], env: Record<string, string> = {}) {
  const run = spawnSync(NODE24.bin, [join(out, "bin.js"), ...args], {
    cwd: work,
    env: { PATH: pathFor(), HOME: "/root", LANG: "C.UTF-8", ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

function config(name: string, lines: readonly string[]): string {
  const path = join(work, name);
  writeFileSync(path, ["version: 1", ...lines, ""].join("\n"));
  return path;
}

const PRINT = ["--", NODE24.bin, "-e", "process.stdout.write(String(process.env.GREETING))"];

describe("a provider registered by one registry entry, in the built CLI", () => {
  it("has a bundle of its own, which the normal build does not have", () => {
    expect(existsSync(join(out, "providers", "echo.js"))).toBe(true);
    expect(existsSync(join(REPO, "dist", "providers", "echo.js"))).toBe(false);
    expect(readFileSync(join(REPO, "dist", "core.js"), "utf8")).not.toContain("ref+echo");
  });

  it("run resolves its references, with its parameters", () => {
    const run = cli(["run", ...PRINT], { GREETING: "ref+echo://hi?repeat=2" });
    expect(run.stderr).toContain('resolved GREETING provider=echo ref="ref+echo://hi?repeat=2" version=1');
    expect(run.stdout).toBe("hihi");
    expect(run.code).toBe(0);
  });

  it("its config block reaches connect() as checked options", () => {
    const path = config("upper.yaml", ["providers:", "  echo: { upper: true }"]);
    const run = cli(["run", "--config", path, ...PRINT], { GREETING: "ref+echo://hi" });
    expect(run.stdout).toBe("HI");
    expect(run.code).toBe(0);
  });

  it("check --json reports its secrets", () => {
    const path = config("check.yaml", ["secrets:", "  GREETING: ref+echo://hi"]);
    const check = cli(["check", "--json", "--config", path]);
    expect(check.code).toBe(0);
    expect(parseJson(check.stdout)).toMatchObject({
      ok: true,
      secrets: [{ name: "GREETING", provider: "echo", ref: "ref+echo://hi", version: "1", status: "ok" }],
    });
  });

  it("every problem of its config block is a config error (78)", () => {
    const path = config("bad.yaml", ["providers:", "  echo: { upper: 1, colour: 2 }"]);
    const check = cli(["check", "--config", path]);
    expect(check.stderr).toContain("providers.echo.upper: expected boolean");
    expect(check.stderr).toContain("providers.echo.colour: unknown key");
    expect(check.stderr).not.toContain("INTERNAL");
    expect(check.code).toBe(78);
  });

  it("its locator grammar and environment prefixes are the descriptor's", () => {
    const badParam = cli(["run", "--", "true"], { GREETING: "ref+echo://hi?repeat=0" });
    expect(badParam.stderr).toContain("repeat is 1 to 9");
    expect(badParam.code).toBe(78);
    const ownVariable = cli(["run", "--", "true"], { ECHO_TOKEN: "ref+echo://x" });
    expect(ownVariable.stderr).toContain("ECHO_TOKEN is a setting the echo provider reads itself");
    expect(ownVariable.code).toBe(78);
  });

  it("the unknown-scheme message and hint list it", () => {
    const run = cli(["run", "--", "true"], { GREETING: "ref+nope://hi" });
    expect(run.stderr).toContain(
      'unknown scheme "nope"; supported: vault, awssecrets, gcpsecrets, azurekeyvault, awsssm, file, echo',
    );
    expect(run.stderr).toContain(
      "fix: use one of the supported schemes: vault, awssecrets, gcpsecrets, azurekeyvault, awsssm, file, echo",
    );
    expect(run.code).toBe(78);
  });
});
