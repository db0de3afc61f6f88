// `secretwrap export` as a CI job uses it: values a shell sources back byte for byte, fail closed
// (nothing printed unless every secret resolved), never to a terminal unless --force, file targets
// named and left out, no value on stderr.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { canary } from "../helpers/canary.ts";
import { CLI, pathFor, runCli } from "../helpers/cli.ts";
import { NODES } from "../helpers/nodes.ts";

const work = mkdtempSync(join(tmpdir(), "secretwrap-e2e-export-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let counter = 0;
const write = (text: string): string => {
  const path = join(work, `s${counter++}`);
  writeFileSync(path, text);
  return path;
};

describe.each(NODES)("export ($name)", (node) => {
  it("shell: sourced by bash, every value comes back exactly; file targets are named and left out", async () => {
    const hostile = `${canary("EXPORT")} it's "$HOME" \`x\` \\ \n second line`;
    const env = {
      HOSTILE: `ref+file://${write(hostile)}`,
      PLAIN: `ref+file://${write(canary("PLAIN"))}`,
      KEY_FILE: `ref+file://${write(canary("KEYFILE"))}`,
    };
    const result = await runCli(["export", "--format", "shell"], { env, node });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/not exported: KEY_FILE/);
    expect(result.stdout).not.toMatch(/KEY/);
    const file = join(work, `out${counter++}.sh`);
    writeFileSync(file, result.stdout);
    const back = spawnSync("bash", ["-c", `. ${file}; printf '%s' "$HOSTILE"`], {
      encoding: "utf8",
      env: {},
    });
    expect(back.stdout).toBe(hostile);
  });

  it("fails closed: one missing secret prints nothing at all (69)", async () => {
    const env = {
      GOOD: `ref+file://${write(canary("GOOD"))}`,
      GONE: `ref+file://${work}/does-not-exist-${counter++}`,
    };
    const result = await runCli(["export", "--format", "json"], { env, node });
    expect(result.code).toBe(69);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/GONE/);
  });

  it("nothing declared is a configuration error (78): a job that exports nothing has lost its secrets", async () => {
    const result = await runCli(["export"], { node, cwd: work });
    expect(result.code).toBe(78);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/nothing is declared: export has no secret to print/);
    expect(result.stderr).not.toMatch(/allow-empty/);
  });

  it("refuses a terminal (64) unless --force; the variable SECRETWRAP_FORCE works the same", () => {
    const env = { PATH: pathFor(node), SECRET_X: `ref+file://${write(canary("TTY"))}` };
    // `script` gives the command a terminal as stdout.
    const onTerminal = (args: string, extra: Record<string, string> = {}) =>
      spawnSync("script", ["-qec", `${CLI} export ${args}`, "/dev/null"], {
        encoding: "utf8",
        env: { ...env, ...extra },
      });
    const refused = onTerminal("");
    expect(refused.status).toBe(64);
    expect(refused.stdout).toMatch(/a terminal/);
    expect(refused.stdout).not.toMatch(/CANARY/i);
    const forced = onTerminal("--force");
    expect(forced.status, forced.stdout).toBe(0);
    expect(forced.stdout).toMatch(/SECRET_X=/);
    expect(onTerminal("", { SECRETWRAP_FORCE: "true" }).status).toBe(0);
  });
});
