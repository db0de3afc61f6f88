// bin.ts guesses from the raw command line whether the run will watch, before anything is parsed
// (src/watch/resident.ts). The guess may say yes where the parser says no (only speed is lost), never
// the other way round: a watch that missed it stays resident at V8's defaults (issue #15's memory).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseCommandLine, type Command } from "../../../src/cli.ts";
import { looksLikeWatch } from "../../../src/watch/resident.ts";

const quiet = (env: Record<string, string>) => ({ writeOut: () => {}, writeErr: () => {}, env });

function watches(argv: readonly string[], env: Record<string, string>): boolean {
  let command: Command;
  try {
    command = parseCommandLine(argv, quiet(env));
  } catch {
    return false; // refused: no watch runs
  }
  if (command.kind === "run") return command.options.watch !== undefined;
  return command.kind === "render" && command.watch !== undefined;
}

/** Words a command line is made of: options that take a value, flags, `--watch` itself, and noise. */
const word = fc.oneof(
  fc.constantFrom(
    "--watch",
    "--refresh-interval",
    "1m",
    "--on-change",
    "restart",
    "--secrets-dir",
    "--allow-disk",
    "--supervise",
    "--log-level",
    "debug",
    "--out",
    "/tmp/x",
    "--",
    "true",
    "-w",
    "--watch=true",
    "--no-watch",
  ),
  fc.string({ maxLength: 8 }),
);
const envValue = fc.oneof(
  fc.constantFrom("true", "TRUE", "1", "yes", "On", "false", "0", "off", "", " true", "maybe"),
  fc.string({ maxLength: 6 }),
);

describe("looksLikeWatch (the guess bin.ts makes before parsing)", () => {
  it("says yes for every command line the parser reads as a watch (random argv and SECRETWRAP_WATCH)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("run", "render"),
        fc.array(word, { maxLength: 8 }),
        fc.option(envValue, { nil: undefined }),
        (kind, rest, value) => {
          const argv = [kind, ...rest, ...(kind === "run" ? ["--", "true"] : [])];
          const env: Record<string, string> = value === undefined ? {} : { SECRETWRAP_WATCH: value };
          if (watches(argv, env)) expect(looksLikeWatch(argv, env)).toBe(true);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it.each([
    [["run", "--watch", "--", "app"], {}, true],
    [["render", "--out", "/d", "--watch"], {}, true],
    [["run", "--", "app"], { SECRETWRAP_WATCH: "Yes" }, true],
    // The app's own --watch is not secretwrap's.
    [["run", "--", "node", "--watch", "app.js"], {}, false],
    [["run", "--", "app"], { SECRETWRAP_WATCH: "off" }, false],
    [["check"], {}, false],
  ] as const)("%j with %j: %s", (argv, env, expected) => {
    expect(looksLikeWatch(argv, env)).toBe(expected);
    expect(watches(argv, env)).toBe(expected);
  });
});
