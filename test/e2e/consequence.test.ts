// Smaller thing of issue 13: a failed get/check/render does not say "the command was not started"
// (they start no command); each says what did not happen for it.
import { describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { runCli } from "../helpers/cli.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-e2e-consequence-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const missing = `ref+file://${work}/absent`;

describe("R13-small: every command says what did not happen", () => {
  const table: [string, string[], Record<string, string>, string][] = [
    ["run", ["run", "--", "true"], { A: missing }, "the command was not started"],
    ["check", ["check"], { A: missing }, "`run` would not start the command"],
    ["get", ["get", missing], {}, "no value was printed"],
    ["render", ["render", "--allow-disk", "--out", join(work, "out")], { A: missing }, "no file was written"],
  ];
  it.each(table)("R13-small: a failed %s says what it did not do", async (kind, args, env, consequence) => {
    const r = await runCli(args, { env });
    expect(r.code, r.stderr).toBe(69);
    expect(r.stderr).toContain(`; ${consequence} code=SECRET_NOT_FOUND`);
    if (kind !== "run") expect(r.stderr).not.toContain("the command was not started");
  });

  it("R13-small: check with nothing declared says what run would really do, and run does it", async () => {
    const marker = join(work, "started");
    const check = await runCli(["check"], { env: {} });
    expect(check.code, check.stderr).toBe(78);
    expect(check.stderr).toContain("; `run` would start the command with no secrets code=CONFIG_INVALID");
    const run = await runCli(["run", "--", "touch", marker], { env: {} });
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(marker)).toBe(true);
  });
});
