// Bash completion, run in a real bash: what is offered after each option that takes a value, and after
// `--` (the app's command line, never secretwrap's options). The options come from the program, so a
// new option is covered without being listed here.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildProgram, describeCommands } from "../../src/cli.ts";
import { completionScript } from "../../src/completion.ts";

const commands = describeCommands(
  buildProgram({ writeOut: () => {}, writeErr: () => {}, env: {} }, () => {}),
);
const script = completionScript("bash", commands);
const work = mkdtempSync(join(tmpdir(), "secretwrap-completion-"));
writeFileSync(join(work, "zz-file-one.txt"), "");
writeFileSync(join(work, "zz-file-two.txt"), "");
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** What bash offers for the last word of `words` (words[0] is "secretwrap"). */
function complete(words: readonly string[]): string[] {
  const quoted = words.map((w) => `'${w.replaceAll("'", `'\\''`)}'`).join(" ");
  const out = execFileSync(
    "bash",
    [
      "--norc",
      "--noprofile",
      "-c",
      `${script}\nCOMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _secretwrap; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    { cwd: work, encoding: "utf8", env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" } },
  );
  return out.split("\n").filter((l) => l !== "");
}

const ALL_OPTIONS = new Set(commands.flatMap((c) => c.options.map((o) => o.long)));
const rows = commands.flatMap((c) =>
  c.options.filter((o) => o.takesValue).map((o) => ({ command: c.name, option: o })),
);

describe("R13-small: bash completion offers what each position takes", () => {
  it.each(rows.map((r) => [`${r.command} ${r.option.long}`, r] as const))(
    "R13-small: after %s: its values, never secretwrap's options",
    (_name, { command, option }) => {
      const offered = complete(["secretwrap", command, option.long, ""]);
      for (const word of offered) expect(ALL_OPTIONS.has(word), word).toBe(false);
      if (option.choices !== undefined) expect(offered.sort()).toEqual([...option.choices].sort());
      else if (option.complete === "file")
        expect(offered).toEqual(expect.arrayContaining(["zz-file-one.txt"]));
      else if (option.complete === undefined) expect(offered).toEqual([]);
    },
  );

  it("R13-small: --log-level offers exactly the levels (it offered file names)", () => {
    expect(complete(["secretwrap", "run", "--log-level", ""]).sort()).toEqual([
      "debug",
      "error",
      "info",
      "warn",
    ]);
    expect(complete(["secretwrap", "check", "--log-level", "d"])).toEqual(["debug"]);
  });

  it("--compat offers the tool names (a list: commander does not check them, so they are not choices)", () => {
    expect(complete(["secretwrap", "run", "--compat", ""]).sort()).toEqual([
      "berglas",
      "secrets-init",
      "vault-env",
    ]);
    expect(complete(["secretwrap", "get", "--compat", "va"])).toEqual(["vault-env"]);
    expect(completionScript("fish", commands)).toContain('-l compat -x -a "berglas secrets-init vault-env"');
  });

  it.each([
    [["run", "--", ""]],
    [["run", "--timeout", "5s", "--", "--"]],
    [["run", "--supervise", "--", "bash", "-"]],
    [["run", "--", "bash", "--"]],
    [["run", "bash", "--"]],
  ])("R13-small: after -- (or run's command) %j: never secretwrap's options", (words) => {
    const offered = complete(["secretwrap", ...words]);
    for (const word of offered) expect(ALL_OPTIONS.has(word), word).toBe(false);
  });

  it("R13-small: the first word after -- is a command, the next ones are files", () => {
    expect(complete(["secretwrap", "run", "--", "bas"])).toContain("bash");
    expect(complete(["secretwrap", "run", "--log-level", "info", "--", "bas"])).toContain("bash");
    expect(complete(["secretwrap", "run", "--", "bash", "zz-"]).sort()).toEqual([
      "zz-file-one.txt",
      "zz-file-two.txt",
    ]);
    expect(complete(["secretwrap", "run", "bash", "zz-"]).sort()).toEqual([
      "zz-file-one.txt",
      "zz-file-two.txt",
    ]);
  });

  it("R13-small: before --, a dash offers the subcommand's options", () => {
    const offered = complete(["secretwrap", "run", "--st"]);
    expect(offered).toEqual(["--stop-timeout"]);
    expect(complete(["secretwrap", "completion", ""]).sort()).toEqual(["bash", "fish", "zsh"]);
  });

  it("R13-small: fish offers the choices of an option and no options after --", () => {
    const fish = completionScript("fish", commands);
    expect(fish).toContain('-l log-level -x -a "error warn info debug"');
    expect(fish).toContain("not contains -- -- (commandline -opc)");
  });
});
