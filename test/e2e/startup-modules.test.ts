// What a command that stays short loads: child_process only where a child is spawned (--supervise,
// --watch, render --watch's exec:CMD). Loading it on every start costs every run a few ms (issue #17)
// for nothing; the watch modules are loaded only with --watch.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { NODE24, REPO } from "../helpers/nodes.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-startup-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function builtinsOf(args: readonly string[]): string[] {
  const secret = join(work, "secret");
  writeFileSync(secret, "value");
  const result = spawnSync(
    NODE24.bin,
    ["--import", join(REPO, "test/fixtures/loaded-modules.mjs"), join(REPO, "dist/bin.js"), ...args],
    { encoding: "utf8", env: { PATH: process.env["PATH"] ?? "", A_FILE: `ref+file://${secret}` } },
  );
  expect(result.status, result.stderr).toBe(0);
  const line = result.stderr.split("\n").find((l) => l.startsWith("loaded-builtins ")) ?? "";
  return line.slice("loaded-builtins ".length).split(",");
}

describe("start-up loads no more than the command needs", () => {
  it.each([
    [["check"]],
    [["render", "--out", join(work, "out"), "--allow-disk"]],
    [["export", "--force", "--format", "json"]],
  ])("%j loads no child_process", (args) => {
    expect(builtinsOf(args)).not.toContain("child_process");
  });

  it("the check is able to see it: run --watch (which spawns its app) loads it", () => {
    expect(
      builtinsOf(["run", "--watch", "--secrets-dir", join(work, "s"), "--allow-disk", "--", "true"]),
    ).toContain("child_process");
  });
});
