// The only place that knows argv: a commander program → one typed Command. Parsing never exits the
// process; help, version and usage errors come back as values.
import { Command as Program, CommanderError } from "commander";
import { LAUNCHER_PREFIX } from "./appenv.ts";
import { completionScript } from "./completion.ts";
import { SecretwrapError } from "./errors.ts";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "./log.ts";
import { helpExamples, PEER_TOOLS } from "./provider.ts";
import {
  applyVariables,
  BOOLEAN,
  choice,
  helpWithVariables,
  count,
  DURATION,
  list,
  listOf,
  paths,
  Setting,
  settingsOf,
  text,
  type Completion,
  type ValueKind,
} from "./settings.ts";
import { VERSION, versionReport } from "./version.ts";
import { EXPORT_FORMATS, type ExportFormat } from "./output/export-format.ts";
import { DEFAULT_REFRESH_INTERVAL_MS } from "./watch/schedule.ts";
import { parseOnChange, type OnChange, type OnExpiry, type WatchOptions } from "./watch/options.ts";

/** References in help text, taken from the providers of this build. */
const EXAMPLES = helpExamples();

export interface CommonOptions {
  readonly config?: string;
  /** Every --env-file, in order: all are loaded, a later file wins for a plain value (README). */
  readonly envFiles: readonly string[];
  readonly secretsDir?: string;
  readonly allowDisk: boolean;
  readonly timeoutMs: number;
  readonly attemptTimeoutMs: number;
  readonly concurrency: number;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  readonly allowNames: readonly string[];
  /** --compat: the peer tools whose reference forms are references; absent when not given. */
  readonly compat?: readonly string[];
}

export interface RunOptions extends CommonOptions {
  /** --watch and its settings (src/watch/); absent without --watch. */
  readonly watch?: WatchOptions;
  readonly supervise: boolean;
  readonly stopTimeoutMs: number;
  readonly user?: string;
  readonly pristine: boolean;
  readonly keepEnv: readonly string[];
}

export type Command =
  | { readonly kind: "run"; readonly options: RunOptions; readonly command: readonly string[] }
  | {
      readonly kind: "check";
      readonly options: CommonOptions;
      readonly json: boolean;
      readonly allowEmpty: boolean;
    }
  | { readonly kind: "get"; readonly options: CommonOptions; readonly ref: string }
  | {
      readonly kind: "export";
      readonly options: CommonOptions;
      readonly format: ExportFormat;
      readonly force: boolean;
    }
  | {
      readonly kind: "render";
      readonly options: CommonOptions;
      readonly out: string;
      /** --watch: keep the files current until stopped (src/watch/). */
      readonly watch?: WatchOptions;
      /** (root only) the owner of the files render writes. */
      readonly user?: string;
      readonly allowEmpty: boolean;
    }
  | { readonly kind: "completion"; readonly shell: "bash" | "zsh" | "fish"; readonly script: string }
  /** Help or version was printed; nothing else to do. */
  | { readonly kind: "done"; readonly exitCode: number };

/** `{ key: value }`, or nothing when the value is undefined (exactOptionalPropertyTypes). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}

function addCommonOptions(command: Program): Program {
  return command
    .addOption(
      new Setting(
        "-c, --config",
        "config file (YAML or JSON); default ./secretwrap.yaml if present",
        text("<file>", "file"),
      ),
    )
    .addOption(
      new Setting(
        "--env-file",
        "dotenv file; values may be references (repeatable: all are loaded, in order)",
        paths("<file>"),
      ).default([], "none"),
    )
    .addOption(
      new Setting(
        "--secrets-dir",
        "directory for file outputs (default: a fresh private dir in /dev/shm)",
        text("<dir>", "file"),
      ),
    )
    .addOption(new Setting("--allow-disk", "allow a secrets dir that is not on tmpfs", BOOLEAN))
    .addOption(
      new Setting("--timeout", "deadline for resolving every secret (at most 24h)", DURATION).default(
        60_000,
        "60s",
      ),
    )
    .addOption(
      new Setting("--attempt-timeout", "timeout of one request attempt (at most 24h)", DURATION).default(
        10_000,
        "10s",
      ),
    )
    .addOption(new Setting("--concurrency", "parallel fetches per provider", count(1, 9999)).default(8))
    .addOption(new Setting("--log-level", "how much to log", choice(LOG_LEVELS, "<level>")).default("info"))
    .addOption(new Setting("--log-format", "text or json", choice(LOG_FORMATS, "<format>")).default("text"))
    .addOption(
      new Setting(
        "--allow-name",
        "allow a target name that changes how programs load code (repeatable)",
        list("<name>", "variable"),
      ).default([], "none"),
    )
    .addOption(
      new Setting(
        "--compat",
        `also read these tools' reference forms as references: ${PEER_TOOLS.join(", ")} (default: none, or the config's compat:)`,
        listOf(PEER_TOOLS, "<tools>"),
      ),
    );
}

/** --watch and its settings, for run (an app to tell) and render (a dir to keep current). */
function addWatchOptions(command: Program, kind: "run" | "render"): Program {
  const onChange: ValueKind<OnChange> = {
    placeholder: "<action>",
    parse: (value) => parseOnChange(value, kind),
  };
  return command
    .addOption(
      new Setting(
        "--watch",
        kind === "run"
          ? "stay with the command: renew leases and tokens, follow rotated secrets, revoke at exit"
          : "keep running: renew leases and tokens, swap the files when a secret changes",
        BOOLEAN,
      ),
    )
    .addOption(
      new Setting(
        "--refresh-interval",
        "with --watch: how often a secret without a lease is checked for a new version, ±20% (default 5m)",
        DURATION,
      ),
    )
    .addOption(
      new Setting(
        "--on-change",
        kind === "run"
          ? "with --watch: auto (restart for env, SIGHUP for files), restart, signal:NAME, exit (75) or none"
          : "with --watch: none, exec:CMD (run by sh -c after each swap) or exit (75)",
        onChange,
      ),
    )
    .addOption(
      new Setting(
        "--on-expiry",
        "with --watch: a lease or token that cannot be kept alive stops the command (exit) or is only logged (warn)",
        choice(["exit", "warn"] as const, "<policy>"),
      ),
    )
    .addOption(
      new Setting(
        "--revoke-on-exit",
        "with --watch: revoke leases and the login token when the watch ends (default true)",
        { ...BOOLEAN, placeholder: "<bool>" },
      ),
    );
}

interface RawWatch {
  watch?: boolean;
  refreshInterval?: number;
  onChange?: OnChange;
  onExpiry?: OnExpiry;
  revokeOnExit?: boolean;
}

/** The watch settings, or undefined without --watch (then none of them may be given). */
function watchOptions(raw: RawWatch, kind: "run" | "render"): WatchOptions | undefined {
  if (raw.watch !== true) {
    const given = (
      [
        ["--refresh-interval", raw.refreshInterval],
        ["--on-change", raw.onChange],
        ["--on-expiry", raw.onExpiry],
        ["--revoke-on-exit", raw.revokeOnExit],
      ] as const
    ).find(([, value]) => value !== undefined);
    if (given !== undefined) {
      throw new SecretwrapError("USAGE", `${given[0]} applies only with --watch`, {
        hint: `add --watch (or SECRETWRAP_WATCH=true), or remove ${given[0]} and its SECRETWRAP_ variable`,
      });
    }
    return undefined;
  }
  return {
    // Honoured as given: a check cycle ends before the next is timed, so even 1ms cannot pile up.
    refreshIntervalMs: raw.refreshInterval ?? DEFAULT_REFRESH_INTERVAL_MS,
    onChange: raw.onChange ?? { kind: kind === "run" ? "auto" : "none" },
    onExpiry: raw.onExpiry ?? "exit",
    revokeOnExit: raw.revokeOnExit ?? true,
  };
}

interface RawCommon {
  config?: string;
  envFile: string[];
  secretsDir?: string;
  allowDisk?: boolean;
  timeout: number;
  attemptTimeout: number;
  concurrency: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
  allowName: string[];
  compat?: string[];
}

function common(raw: RawCommon): CommonOptions {
  return {
    ...(raw.config === undefined ? {} : { config: raw.config }),
    envFiles: raw.envFile,
    ...(raw.secretsDir === undefined ? {} : { secretsDir: raw.secretsDir }),
    allowDisk: raw.allowDisk === true,
    timeoutMs: raw.timeout,
    attemptTimeoutMs: raw.attemptTimeout,
    concurrency: raw.concurrency,
    logLevel: raw.logLevel,
    logFormat: raw.logFormat,
    allowNames: raw.allowName,
    // Given twice (argv and a list in one value), a name counts once.
    ...(raw.compat === undefined ? {} : { compat: [...new Set(raw.compat)] }),
  };
}

export interface CliIo {
  readonly writeOut: (text: string) => void;
  readonly writeErr: (text: string) => void;
  /** Where SECRETWRAP_* settings are read from (never process.env behind the caller's back). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

const SUBCOMMANDS = ["run", "check", "get", "render", "export", "version", "completion"] as const;
type SubcommandName = (typeof SUBCOMMANDS)[number];

const isSubcommandName = (name: string): name is SubcommandName =>
  (SUBCOMMANDS as readonly string[]).includes(name);

/**
 * The commander program. `only`: the first word of the command line; when it names a subcommand, only
 * that one is built.
 */
export function buildProgram(io: CliIo, onCommand: (command: Command) => void, only?: string): Program {
  const program = new Program("secretwrap")
    .description(
      "Fetch secrets, hand them to a command as env vars or tmpfs files, then exec it. Fails closed.",
    )
    .version(VERSION, "-V, --version")
    .enablePositionalOptions()
    .showSuggestionAfterError()
    .configureOutput({
      writeOut: io.writeOut,
      writeErr: io.writeErr,
      outputError: (text, write) => write(`secretwrap: ${oneLine(text.replace(/^error: /, ""))}\n`),
    })
    .exitOverride()
    // After argv, before any action: what argv left alone comes from its SECRETWRAP_* variable.
    .hook("preAction", (_program, action) => applyVariables(action, io.env));
  program.addHelpText(
    "after",
    `
Examples:
  DB_PASSWORD_FILE=${EXAMPLES.first} secretwrap run -- node server.js
  secretwrap check --json
  secretwrap get ${EXAMPLES.local}

Exit codes: the command's own (128+N if it died from signal N); 64 usage, 78 config, 77 auth denied,
69 fetch failed, 73 file output failed, 75 a secret changed (--watch --on-change exit), 70 internal,
126/127 command not executable/not found.`,
  );

  const subcommands: Record<SubcommandName, () => Program> = {
    run: () =>
      addWatchOptions(addCommonOptions(new Program("run")), "run")
        .description("resolve every declared secret, then replace secretwrap with the command")
        .argument("[command...]", "the command and its arguments (after --)")
        .passThroughOptions()
        .addOption(
          new Setting("--supervise", "run the command as a child instead of replacing secretwrap", BOOLEAN),
        )
        .addOption(
          new Setting(
            "--stop-timeout",
            "with --supervise or --watch: SIGKILL the command this long after the first TERM/INT (at most 24h)",
            DURATION,
          ).default(10_000, "10s"),
        )
        .addOption(
          new Setting(
            "--user",
            "(root only) run the command and own its files as this user (name or id)",
            text("<user[:group]>", "user"),
          ),
        )
        .addOption(
          new Setting(
            "--pristine",
            "the command gets only declared variables plus PATH, HOME, TERM, LANG",
            BOOLEAN,
          ),
        )
        .addOption(
          new Setting(
            "--keep-env",
            "keep this variable for the command (repeatable)",
            list("<name>", "variable"),
          ).default([], "none"),
        )
        .addHelpText(
          "after",
          `
Example:
  DB_PASSWORD_FILE=${EXAMPLES.first} secretwrap run -- node server.js`,
        )
        .action(
          (
            command: string[],
            raw: RawCommon &
              RawWatch & {
                supervise?: boolean;
                stopTimeout: number;
                user?: string;
                pristine?: boolean;
                keepEnv: string[];
              },
          ) => {
            if (command.length === 0) {
              throw new SecretwrapError("USAGE", "no command given", {
                hint: "put the command after --: secretwrap run -- node server.js",
              });
            }
            onCommand({
              kind: "run",
              command,
              options: {
                ...common(raw),
                ...optional("watch", watchOptions(raw, "run")),
                supervise: raw.supervise === true,
                stopTimeoutMs: raw.stopTimeout,
                ...(raw.user === undefined ? {} : { user: raw.user }),
                pristine: raw.pristine === true,
                keepEnv: raw.keepEnv,
              },
            });
          },
        ),
    check: () =>
      addCommonOptions(new Program("check"))
        .description("resolve every declared secret and report each one (never its value); exit as run would")
        .addOption(new Setting("--json", "print a JSON report on stdout", BOOLEAN))
        .addOption(new Setting("--allow-empty", "succeed even when no secret is declared", BOOLEAN))
        .addHelpText(
          "after",
          `
Example:
  secretwrap check --config secretwrap.yaml --json`,
        )
        .action((raw: RawCommon & { json?: boolean; allowEmpty?: boolean }) =>
          onCommand({
            kind: "check",
            options: common(raw),
            json: raw.json === true,
            allowEmpty: raw.allowEmpty === true,
          }),
        ),
    get: () =>
      addCommonOptions(new Program("get"))
        .description("print one secret's value to stdout")
        .argument("<ref>", `a reference, e.g. ${EXAMPLES.first}`)
        .addHelpText(
          "after",
          `
Example:
  secretwrap get '${EXAMPLES.second}' > /run/build-secret`,
        )
        .action((ref: string, raw: RawCommon) => onCommand({ kind: "get", options: common(raw), ref })),
    export: () =>
      addCommonOptions(new Program("export"))
        .description(
          "print every declared env target for another tool (CI jobs, docker compose); never to a terminal",
        )
        .addOption(
          new Setting(
            "--format",
            "dotenv (docker --env-file), json, or shell (export NAME='…', for source)",
            choice(EXPORT_FORMATS, "<format>"),
          ).default("dotenv"),
        )
        .addOption(new Setting("--force", "print to a terminal too", BOOLEAN))
        .addHelpText(
          "after",
          `
Example:
  secretwrap export --config secretwrap.yaml > .env && docker compose --env-file .env up`,
        )
        .action((raw: RawCommon & { format: ExportFormat; force?: boolean }) =>
          onCommand({ kind: "export", options: common(raw), format: raw.format, force: raw.force === true }),
        ),
    render: () =>
      addWatchOptions(addCommonOptions(new Program("render")), "render")
        .description("write every declared secret as a file into a directory and exit (init containers)")
        .addOption(
          new Setting(
            "--out",
            "(required) the directory to write into (tmpfs unless --allow-disk)",
            text("<dir>", "file"),
          ),
        )
        .addHelpText(
          "after",
          `
Example:
  secretwrap render --config /etc/secretwrap.yaml --out /secrets`,
        )
        .addOption(new Setting("--allow-empty", "succeed even when no secret is declared", BOOLEAN))
        .addOption(
          new Setting(
            "--user",
            "(root only) own the files as this user (name or id)",
            text("<user[:group]>", "user"),
          ),
        )
        .action((raw: RawCommon & RawWatch & { out?: string; allowEmpty?: boolean; user?: string }) => {
          // Checked here, not by commander: SECRETWRAP_OUT counts, and commander looks before it is read.
          if (raw.out === undefined) {
            throw new SecretwrapError("USAGE", "render needs --out DIR (or SECRETWRAP_OUT)");
          }
          onCommand({
            kind: "render",
            options: common(raw),
            out: raw.out,
            ...optional("watch", watchOptions(raw, "render")),
            allowEmpty: raw.allowEmpty === true,
            ...(raw.user === undefined ? {} : { user: raw.user }),
          });
        }),
    version: () =>
      new Program("version").description("print the version, Node, platform and packaging").action(() => {
        io.writeOut(versionReport());
        onCommand({ kind: "done", exitCode: 0 });
      }),
    completion: () =>
      new Program("completion")
        .description("print a shell completion script")
        .argument("<shell>", "bash, zsh or fish")
        .addHelpText(
          "after",
          `
Example:
  secretwrap completion bash > /etc/bash_completion.d/secretwrap`,
        )
        .action((shell: string) => {
          if (shell !== "bash" && shell !== "zsh" && shell !== "fish") {
            throw new SecretwrapError(
              "USAGE",
              `completion: unknown shell "${shell.slice(0, 20)}"; use bash, zsh or fish`,
            );
          }
          onCommand({
            kind: "completion",
            shell,
            script: completionScript(shell, describeCommands(program)),
          });
        }),
  };

  // Building a subcommand costs about a millisecond (commander checks every option as it is added):
  // a command line that names one builds only that one; help, completion and mistakes get them all.
  const names = only !== undefined && isSubcommandName(only) && only !== "completion" ? [only] : SUBCOMMANDS;
  for (const name of names) {
    const sub = subcommands[name]();
    sub.configureOutput(program.configureOutput()).configureHelp(helpWithVariables).exitOverride();
    program.addCommand(sub);
  }
  return program;
}

export interface OptionShape {
  readonly long: string;
  /** Takes a value on argv (otherwise a flag). */
  readonly takesValue: boolean;
  /** The words offered as the value: its choices, or the names a list takes (e.g. --compat's tools). */
  readonly choices?: readonly string[];
  readonly complete?: Completion;
}

export interface CommandShape {
  readonly name: string;
  readonly options: readonly OptionShape[];
}

/** Commands and their long options, for completion scripts. */
export function describeCommands(program: Program): CommandShape[] {
  return program.commands.map((command) => ({
    name: command.name(),
    options: [
      ...settingsOf(command).map((s) => ({
        long: s.long ?? s.flags,
        takesValue: s.kind.placeholder !== undefined,
        ...(s.kind.choices === undefined && s.kind.offers === undefined
          ? {}
          : { choices: s.kind.choices ?? s.kind.offers }),
        ...(s.kind.complete === undefined ? {} : { complete: s.kind.complete }),
      })),
      { long: "--help", takesValue: false },
    ],
  }));
}

/**
 * commander echoes argv words in its messages: control bytes must not split or forge a line. A newline
 * becomes a space (commander puts its own "(Did you mean …?)" on a second line); the rest are escaped.
 */
const oneLine = (message: string): string =>
  Array.from(message.trimEnd(), (c) => {
    if (c === "\n") return " ";
    return c < " " || c === "\x7f" ? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}` : c;
  }).join("");

/**
 * argv (and the SECRETWRAP_* variables in io.env) → one Command. Usage errors commander reports come
 * back as exit code 64 (already printed); a bad variable throws a SecretwrapError("USAGE").
 */
export function parseCommandLine(argv: readonly string[], io: CliIo): Command {
  let parsed: Command | undefined;
  const program = buildProgram(io, (command) => (parsed = command), argv[0]);
  try {
    program.parse([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and version exit 0; commander already printed its message for the rest
      return { kind: "done", exitCode: error.exitCode === 0 ? 0 : 64 };
    }
    throw error;
  }
  if (parsed === undefined) {
    program.outputHelp({ error: true });
    return { kind: "done", exitCode: 64 };
  }
  return parsed;
}

/**
 * SECRETWRAP_* variables that no option of any command reads (a typo such as SECRETWRAP_LOGLEVEL):
 * never passed to the app, so without a warning they would vanish silently. The launcher's own
 * SECRETWRAP_APP_<NAME> (src/appenv.ts) are not settings and not typos.
 */
export function unknownSettings(env: Readonly<Record<string, string | undefined>>): string[] {
  const candidates = Object.keys(env).filter(
    (name) => name.startsWith("SECRETWRAP_") && !name.startsWith(LAUNCHER_PREFIX) && env[name] !== undefined,
  );
  if (candidates.length === 0) return [];
  // Built only when there is something to check: every subcommand's settings are known ones.
  const program = buildProgram({ writeOut: () => {}, writeErr: () => {}, env: {} }, () => {});
  const known = new Set(program.commands.flatMap((command) => settingsOf(command).map((s) => s.variable)));
  return candidates.filter((name) => !known.has(name));
}
