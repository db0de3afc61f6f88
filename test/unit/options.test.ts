// R2 and the durations of R13: every option of every subcommand, taken from the commander program
// itself (an option added later is in these tables without anyone listing it), read from argv and
// from its SECRETWRAP_* variable by one parser per value kind.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command as Program } from "commander";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildProgram, parseCommandLine, unknownSettings } from "../../src/cli.ts";
import { loadDeclarations } from "../../src/config/load.ts";
import { MAX_DURATION_MS, parseDuration } from "../../src/duration.ts";
import { SecretwrapError } from "../../src/errors.ts";
import { Setting, settingsOf, variableFor, type ValueKind } from "../../src/settings.ts";

type Env = Record<string, string>;

const quiet = (env: Env = {}) => ({ writeOut: () => {}, writeErr: () => {}, env });

/** The smallest command line each subcommand accepts; `without` leaves out an option it would pass. */
function baseArgv(command: string, without?: string): string[] {
  switch (command) {
    case "run":
      return ["run"];
    case "get":
      return ["get"];
    case "render":
      return without === "--out" ? ["render"] : ["render", "--out", "/nonexistent-out"];
    default:
      return [command];
  }
}
/** A setting that applies only with --watch is a usage error without it: its rows pass --watch. */
const needsWatch = (setting: Setting): boolean => setting.description.startsWith("with --watch:");
const tail = (command: string): string[] =>
  command === "run" ? ["--", "true"] : command === "get" ? ["ref+file:///x"] : [];

interface Outcome {
  readonly exit: number;
  /** The option's value and where it came from, when parsing succeeded. */
  readonly value?: unknown;
  readonly source?: string | undefined;
  readonly message: string;
}

/**
 * Parses like main() does and reports the exit code the user would see: 0 for a parsed command,
 * commander's 64, or the SecretwrapError's code. Anything else thrown is a bug (it would be 70) and
 * fails the test by propagating.
 */
function outcome(command: string, setting: Setting, options: { argv?: string[]; env?: Env }): Outcome {
  let message = "";
  const io = { ...quiet(options.env), writeErr: (t: string) => (message += t) };
  const argv = [
    ...baseArgv(command, setting.long),
    ...(needsWatch(setting) ? ["--watch"] : []),
    ...(options.argv ?? []),
    ...tail(command),
  ];
  try {
    const parsed = parseCommandLine(argv, io);
    if (parsed.kind === "done") return { exit: parsed.exitCode, message };
  } catch (error) {
    if (error instanceof SecretwrapError) return { exit: error.exitCode, message: error.message };
    throw error;
  }
  // parseCommandLine builds its own program; read the value from a twin parsed the same way.
  const program = buildProgram(io, () => {}, argv[0]);
  program.parse(argv, { from: "user" });
  const sub: Program | undefined = program.commands.find((c) => c.name() === command);
  const key = setting.attributeName();
  return { exit: 0, value: sub?.getOptionValue(key), source: sub?.getOptionValueSource(key), message };
}

const program = buildProgram(quiet(), () => {});
const ROWS = program.commands.flatMap((command) =>
  settingsOf(command).map((setting) => ({ command: command.name(), setting })),
);
const ROW_NAME = (r: { command: string; setting: Setting }) => `${r.command} ${r.setting.long}`;

/** Valid texts and the value each must give, per kind; derived from the kind where it has choices. */
function validForms(kind: ValueKind<unknown>, long: string): [string, unknown][] {
  if (kind.placeholder === undefined || kind.placeholder === "<bool>") {
    return [
      ["true", true],
      ["TRUE", true],
      ["1", true],
      ["yes", true],
      ["On", true],
      ["false", false],
      ["False", false],
      ["0", false],
      ["NO", false],
      ["off", false],
    ];
  }
  if (kind.placeholder === "<tools>") {
    // --compat: names of peer tools, any case, comma-separated, each once
    return [
      ["berglas", ["berglas"]],
      ["vault-env,BERGLAS", ["vault-env", "berglas"]],
      [" secrets-init , ", ["secrets-init"]],
    ];
  }
  if (kind.choices !== undefined) {
    return kind.choices.flatMap((c): [string, unknown][] => [
      [c, c],
      [c.toUpperCase(), c],
    ]);
  }
  if (kind.repeatable === true && kind.complete === "file") {
    // paths: one per value, never split (a path may hold a comma)
    return [
      ["a.env", ["a.env"]],
      ["/tmp/a b,c.env", ["/tmp/a b,c.env"]],
    ];
  }
  if (kind.repeatable === true) {
    return [
      ["A", ["A"]],
      ["A,B", ["A", "B"]],
      [" A , B ,", ["A", "B"]],
    ];
  }
  if (kind.placeholder === "<duration>") {
    return [
      ["1ms", 1],
      ["250ms", 250],
      ["1.5s", 1500],
      ["2m", 120_000],
      ["0.5h", 1_800_000],
      ["24h", 86_400_000],
    ];
  }
  if (kind.placeholder === "<action>") {
    // the --on-change actions run and render both take
    return [
      ["none", { kind: "none" }],
      ["EXIT", { kind: "exit" }],
    ];
  }
  if (kind.placeholder === "<n>") {
    return [
      ["1", 1],
      ["8", 8],
      ["9999", 9999],
    ];
  }
  return [
    ["x", "x"],
    [long === "--user" ? "1000:1000" : "/tmp/a b,c", long === "--user" ? "1000:1000" : "/tmp/a b,c"],
  ];
}

function invalidForms(kind: ValueKind<unknown>): string[] {
  if (kind.placeholder === undefined || kind.placeholder === "<bool>")
    return ["", " true", "2", "maybe", "ja", "truee", "-1"];
  if (kind.placeholder === "<action>")
    return ["", "sometimes", "signal:", "signal:NOPE", "exec:", "restart now"];
  if (kind.placeholder === "<tools>") return ["", ",", "vals", "berglas,nope", "berglas secrets-init"];
  if (kind.choices !== undefined) return ["", "nope", ` ${kind.choices[0] ?? ""}`];
  if (kind.repeatable === true && kind.complete === "file") return [""];
  if (kind.repeatable === true) return ["", ",", " , "];
  if (kind.placeholder === "<duration>")
    return ["", "5", "0s", "0ms", "25h", "600h", "9999999999999999999s", "1.0001s", "1 s", "-1s", "1d"];
  if (kind.placeholder === "<n>") return ["", "0", "10000", "1.5", "-1", "1e3", "99999999999999999999"];
  return [""];
}

describe("R2: every option is read from its variable by the same typed rule", () => {
  it("R2: every option of every subcommand is a Setting with a SECRETWRAP_ variable named after it", () => {
    expect(ROWS.length).toBeGreaterThan(20);
    for (const command of program.commands) {
      for (const option of command.options) {
        expect(option, `${command.name()} ${option.flags}`).toBeInstanceOf(Setting);
        const setting = option as Setting;
        expect(setting.variable).toBe(variableFor(setting.long ?? ""));
        expect(setting.variable).toMatch(/^SECRETWRAP_[A-Z][A-Z0-9_]*$/);
      }
    }
  });

  it.each(ROWS.map((r) => [ROW_NAME(r), r] as const))(
    "R2: %s: every valid form from its variable gives the documented value",
    (_name, { command, setting }) => {
      for (const [text, value] of validForms(setting.kind, setting.long ?? "")) {
        const result = outcome(command, setting, { env: { [setting.variable]: text } });
        expect(result, `${setting.variable}=${JSON.stringify(text)}`).toMatchObject({
          exit: 0,
          value,
          source: "env",
        });
      }
    },
  );

  it.each(ROWS.map((r) => [ROW_NAME(r), r] as const))(
    "R2: %s: every invalid form from its variable is a usage error (64) naming the variable",
    (_name, { command, setting }) => {
      for (const text of invalidForms(setting.kind)) {
        const result = outcome(command, setting, { env: { [setting.variable]: text } });
        expect(result.exit, `${setting.variable}=${JSON.stringify(text)}`).toBe(64);
        expect(result.message).toContain(setting.variable);
      }
    },
  );

  it.each(ROWS.map((r) => [ROW_NAME(r), r] as const))(
    "R2: %s: the command line wins over the variable",
    (_name, { command, setting }) => {
      const forms = validForms(setting.kind, setting.long ?? "");
      const [envText] = forms[forms.length - 1] ?? [];
      if (setting.kind.placeholder === undefined) {
        // a flag on argv means on, whatever the variable says
        const result = outcome(command, setting, {
          argv: [setting.long ?? ""],
          env: { [setting.variable]: "off" },
        });
        expect(result).toMatchObject({ exit: 0, value: true, source: "cli" });
        return;
      }
      const [cliText, cliValue] = forms[0] ?? [];
      const result = outcome(command, setting, {
        argv: [`${setting.long}=${cliText}`],
        env: { [setting.variable]: envText ?? "" },
      });
      expect(result).toMatchObject({ exit: 0, value: cliValue, source: "cli" });
    },
  );

  it("R2: booleans from variables: SECRETWRAP_ALLOW_DISK=false and SECRETWRAP_SUPERVISE=false are off", () => {
    for (const text of ["false", "0", "no", "off", "FALSE"]) {
      const env = { SECRETWRAP_ALLOW_DISK: text, SECRETWRAP_SUPERVISE: text, SECRETWRAP_PRISTINE: text };
      const parsed = parseCommandLine(["run", "--", "true"], quiet(env));
      expect(parsed).toMatchObject({
        kind: "run",
        options: { allowDisk: false, supervise: false, pristine: false },
      });
    }
    const on = { SECRETWRAP_ALLOW_DISK: "yes", SECRETWRAP_SUPERVISE: "1", SECRETWRAP_PRISTINE: "true" };
    expect(parseCommandLine(["run", "--", "true"], quiet(on))).toMatchObject({
      options: { allowDisk: true, supervise: true, pristine: true },
    });
  });

  it("R2: the same parser serves argv and variables: for arbitrary text, both accept the same value or both refuse", () => {
    const valued = ROWS.filter((r) => r.setting.kind.placeholder !== undefined);
    const texts = fc.oneof(
      fc.string(),
      fc.string({ unit: "binary" }),
      fc.constantFrom("", "1", "0", "10s", "24h", "24.0001h", "A,B", "info", "DEBUG", "x"),
    );
    fc.assert(
      fc.property(fc.constantFrom(...valued), texts, ({ command, setting }, text) => {
        const env = outcome(command, setting, { env: { [setting.variable]: text } });
        const argv = outcome(command, setting, { argv: [`${setting.long}=${text}`] });
        expect([0, 64]).toContain(env.exit);
        expect(argv.exit).toBe(env.exit);
        if (env.exit === 0) expect(argv.value).toEqual(env.value);
      }),
      { numRuns: 400 },
    );
  });
});

describe("R2: a SECRETWRAP_* variable is a setting or is reported, never silently dropped", () => {
  it("R2: every setting's variable (and the launcher's SECRETWRAP_APP_*) is known; any other SECRETWRAP_ name is named", () => {
    const known = Object.fromEntries(ROWS.map((r) => [r.setting.variable, "x"]));
    expect(unknownSettings({ ...known, SECRETWRAP_APP_NODE_OPTIONS: "--x", SECRETWRAP_APP_X: "y" })).toEqual(
      [],
    );
    expect(
      unknownSettings({ ...known, SECRETWRAP_LOGLEVEL: "debug", SECRETWRAP_ALLOWDISK: "1", SECRETWRAP_: "" }),
    ).toEqual(["SECRETWRAP_LOGLEVEL", "SECRETWRAP_ALLOWDISK", "SECRETWRAP_"]);
    expect(unknownSettings({ PATH: "/bin", secretwrap_log_level: "x" })).toEqual([]);
  });

  it("R2: a SECRETWRAP_* line in an --env-file is 78 naming file:line, whether plain or a reference", async () => {
    const dir = mkdtempSync(join(tmpdir(), "secretwrap-r2-"));
    try {
      const envFile = join(dir, "a.env");
      writeFileSync(
        envFile,
        "A=1\nSECRETWRAP_LOG_LEVEL=error\nSECRETWRAP_ALLOW_DISK=true\nSECRETWRAP_X=ref+file:///x\n",
      );
      const loaded = await loadDeclarations({ env: {}, envFiles: [envFile] });
      expect(loaded.problems.map((p) => p.exitCode)).toEqual([78, 78, 78]);
      loaded.problems.forEach((p, i) =>
        expect(p.message).toMatch(
          new RegExp(
            `^${envFile}:${i + 2}: SECRETWRAP_\\w+: secretwrap's settings are read from its own environment or options, not from an env-file`,
          ),
        ),
      );
      // Neither applied nor handed to the app.
      expect({ ...loaded.envFileValues }).toEqual({ A: "1" });
      expect(loaded.declarations).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("R2: README documents every option and its variable", () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const documented = [...readme.matchAll(/^\| `(?:-[a-zA-Z], )?(--[a-z][a-z-]*)[^`]*`/gm)].map(
    (m) => m[1] ?? "",
  );
  const known = new Set(ROWS.map((r) => r.setting.long));

  it("R2: every option in README's tables exists and is read from SECRETWRAP_<NAME>", () => {
    expect(documented.length).toBeGreaterThan(10);
    for (const long of documented) {
      expect(known, long).toContain(long);
      const row = ROWS.find((r) => r.setting.long === long);
      expect(row?.setting.variable).toBe(`SECRETWRAP_${long.slice(2).toUpperCase().replaceAll("-", "_")}`);
    }
    expect(readme).toContain("SECRETWRAP_<NAME>");
  });

  it("R2: every option secretwrap has is mentioned in the README", () => {
    for (const long of known) {
      expect(readme, `${long} is not in README.md`).toMatch(new RegExp(`${long}(?![a-z-])`));
    }
  });
});

/** ms as an exact decimal in `unit`, or undefined when it has none (e.g. 1ms in hours). */
function exactDecimal(ms: bigint, unitMs: bigint): string | undefined {
  const whole = ms / unitMs;
  let rest = ms % unitMs;
  let fraction = "";
  while (rest !== 0n && fraction.length < 12) {
    rest *= 10n;
    fraction += String(rest / unitMs);
    rest %= unitMs;
  }
  if (rest !== 0n) return undefined;
  return fraction === "" ? String(whole) : `${whole}.${fraction}`;
}

const UNITS = [
  ["ms", 1n],
  ["s", 1000n],
  ["m", 60_000n],
  ["h", 3_600_000n],
] as const;

describe("R13: durations are bounded and honoured exactly", () => {
  const durations = ROWS.filter((r) => r.setting.kind.placeholder === "<duration>");

  it("R13: the bound is below the timers' limit, so no consumer of a duration can overflow", () => {
    expect(MAX_DURATION_MS).toBeLessThanOrEqual(2 ** 31 - 1);
    expect(durations.map((r) => r.setting.long).sort()).toEqual(
      expect.arrayContaining(["--attempt-timeout", "--stop-timeout", "--timeout"]),
    );
  });

  it("R13: any text for any duration option, on argv or in its variable, exits 0-path or 64, never 70", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...durations),
        fc.boolean(),
        fc.oneof(
          fc.string(),
          fc.string({ unit: "binary" }),
          fc.stringMatching(/^[0-9]{0,25}(\.[0-9]{0,25})?(ms|s|m|h|d|)$/),
        ),
        ({ command, setting }, fromEnv, text) => {
          const result = fromEnv
            ? outcome(command, setting, { env: { [setting.variable]: text } })
            : outcome(command, setting, { argv: [`${setting.long}=${text}`] });
          expect([0, 64]).toContain(result.exit);
          if (result.exit === 0) {
            expect(Number.isInteger(result.value)).toBe(true);
            expect(result.value).toBeGreaterThanOrEqual(1);
            expect(result.value).toBeLessThanOrEqual(MAX_DURATION_MS);
          }
        },
      ),
      { numRuns: 600 },
    );
  });

  it("R13: a duration within bounds, written in any unit that can express it, parses to exactly its ms", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: MAX_DURATION_MS }),
        fc.constantFrom(...UNITS),
        fc.nat({ max: 3 }),
        fc.nat({ max: 3 }),
        (ms, [unit, unitMs], leadingZeros, trailingZeros) => {
          const decimal = exactDecimal(BigInt(ms), unitMs);
          fc.pre(decimal !== undefined);
          const padded =
            "0".repeat(leadingZeros) + decimal + (decimal?.includes(".") ? "0".repeat(trailingZeros) : "");
          expect(parseDuration(`${padded}${unit}`)).toEqual({ ok: true, ms });
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("R13: a duration past the bound, or finer than a millisecond, or without a unit, is refused", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: BigInt(MAX_DURATION_MS) + 1n, max: 10n ** 30n }),
        fc.constantFrom(...UNITS),
        (ms, [unit, unitMs]) => {
          const decimal = exactDecimal(ms, unitMs);
          fc.pre(decimal !== undefined);
          expect(parseDuration(`${decimal}${unit}`)).toMatchObject({
            ok: false,
            reason: "must be at most 24h",
          });
        },
      ),
    );
    fc.assert(
      fc.property(fc.nat({ max: 10_000 }), fc.integer({ min: 1, max: 9 }), (whole, tenth) => {
        expect(parseDuration(`${whole}.${"0".repeat(3)}${tenth}s`).ok).toBe(false);
        expect(parseDuration(String(whole)).ok).toBe(false);
      }),
    );
  });
});
