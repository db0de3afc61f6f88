// The only place that knows argv: a commander program → one typed Command. Parsing never exits the
// process; help, version and usage errors come back as values.
import { Command as Program, InvalidArgumentError, Option } from "commander";
import { SecretwrapError } from "./errors.ts";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "./log.ts";
import { VERSION } from "./version.ts";

export interface CommonOptions {
  readonly config?: string;
  readonly envFile?: string;
  readonly secretsDir?: string;
  readonly allowDisk: boolean;
  readonly timeoutMs: number;
  readonly attemptTimeoutMs: number;
  readonly concurrency: number;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  readonly allowNames: readonly string[];
}

export interface RunOptions extends CommonOptions {
  readonly supervise: boolean;
  readonly stopTimeoutMs: number;
  readonly user?: string;
  readonly pristine: boolean;
  readonly keepEnv: readonly string[];
}

export type Command =
  | { readonly kind: "run"; readonly options: RunOptions; readonly command: readonly string[] }
  | { readonly kind: "check"; readonly options: CommonOptions; readonly json: boolean }
  | { readonly kind: "get"; readonly options: CommonOptions; readonly ref: string }
  | { readonly kind: "render"; readonly options: CommonOptions; readonly out: string }
  | { readonly kind: "completion"; readonly shell: "bash" | "zsh" | "fish"; readonly script: string }
  /** Help or version was printed; nothing else to do. */
  | { readonly kind: "done"; readonly exitCode: number };

export function parseDuration(text: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (match === null) throw new InvalidArgumentError("expected a duration such as 500ms, 30s, 2m");
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? "s") as "ms" | "s" | "m" | "h"];
  const ms = Math.round(Number(match[1]) * unit);
  if (ms <= 0) throw new InvalidArgumentError("must be more than zero");
  return ms;
}

function parseCount(text: string): number {
  if (!/^[1-9][0-9]{0,3}$/.test(text))
    throw new InvalidArgumentError("expected a whole number from 1 to 9999");
  return Number(text);
}

/** Repeatable name options; a SECRETWRAP_* variable gives several at once, comma-separated. */
const collect = (value: string, previous: string[] = []): string[] => [
  ...previous,
  ...value
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v !== ""),
];

function addCommonOptions(command: Program): Program {
  return command
    .addOption(
      new Option(
        "-c, --config <file>",
        "config file (YAML or JSON); default ./secretwrap.yaml if present",
      ).env("SECRETWRAP_CONFIG"),
    )
    .addOption(
      new Option("--env-file <file>", "dotenv file; values may be references").env("SECRETWRAP_ENV_FILE"),
    )
    .addOption(
      new Option(
        "--secrets-dir <dir>",
        "directory for file outputs (default: a fresh private dir in /dev/shm)",
      ).env("SECRETWRAP_SECRETS_DIR"),
    )
    .addOption(
      new Option("--allow-disk", "allow a secrets dir that is not on tmpfs").env("SECRETWRAP_ALLOW_DISK"),
    )
    .addOption(
      new Option("--timeout <duration>", "deadline for resolving every secret")
        .env("SECRETWRAP_TIMEOUT")
        .default(60_000, "60s")
        .argParser(parseDuration),
    )
    .addOption(
      new Option("--attempt-timeout <duration>", "timeout of one request attempt")
        .env("SECRETWRAP_ATTEMPT_TIMEOUT")
        .default(10_000, "10s")
        .argParser(parseDuration),
    )
    .addOption(
      new Option("--concurrency <n>", "parallel fetches per provider")
        .env("SECRETWRAP_CONCURRENCY")
        .default(8)
        .argParser(parseCount),
    )
    .addOption(
      new Option("--log-level <level>", "error, warn, info or debug")
        .env("SECRETWRAP_LOG_LEVEL")
        .choices(LOG_LEVELS)
        .default("info"),
    )
    .addOption(
      new Option("--log-format <format>", "text or json")
        .env("SECRETWRAP_LOG_FORMAT")
        .choices(LOG_FORMATS)
        .default("text"),
    )
    .addOption(
      new Option(
        "--allow-name <name>",
        "allow a target name that changes how programs load code (repeatable)",
      )
        .env("SECRETWRAP_ALLOW_NAME")
        .argParser(collect)
        .default([]),
    );
}

interface RawCommon {
  config?: string;
  envFile?: string;
  secretsDir?: string;
  allowDisk?: boolean | string;
  timeout: number;
  attemptTimeout: number;
  concurrency: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
  allowName: string[];
}

function common(raw: RawCommon): CommonOptions {
  return {
    ...(raw.config === undefined ? {} : { config: raw.config }),
    ...(raw.envFile === undefined ? {} : { envFile: raw.envFile }),
    ...(raw.secretsDir === undefined ? {} : { secretsDir: raw.secretsDir }),
    allowDisk: flag(raw.allowDisk),
    timeoutMs: raw.timeout,
    attemptTimeoutMs: raw.attemptTimeout,
    concurrency: raw.concurrency,
    logLevel: raw.logLevel,
    logFormat: raw.logFormat,
    allowNames: raw.allowName,
  };
}

/** Boolean options set from SECRETWRAP_* variables arrive as strings. */
function flag(value: boolean | string | undefined): boolean {
  if (typeof value === "string") return !["", "0", "false", "no"].includes(value.toLowerCase());
  return value === true;
}

export interface CliIo {
  readonly writeOut: (text: string) => void;
  readonly writeErr: (text: string) => void;
}

const SUBCOMMANDS = ["run", "check", "get", "render", "version", "completion"] as const;
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
      outputError: (text, write) => write(`secretwrap: ${text.replace(/^error: /, "")}`),
    })
    .exitOverride();
  program.addHelpText(
    "after",
    `
Examples:
  DB_PASSWORD_FILE=ref+vault://secret/myapp/db#password secretwrap run -- node server.js
  secretwrap check --json
  secretwrap get ref+file://./dev/token

Exit codes: the command's own (128+N if it died from signal N); 64 usage, 78 config, 77 auth denied,
69 fetch failed, 73 file output failed, 70 internal, 126/127 command not executable/not found.`,
  );

  const subcommands: Record<SubcommandName, () => Program> = {
    run: () =>
      addCommonOptions(new Program("run"))
        .description("resolve every declared secret, then replace secretwrap with the command")
        .argument("[command...]", "the command and its arguments (after --)")
        .passThroughOptions()
        .addOption(
          new Option("--supervise", "run the command as a child instead of replacing secretwrap").env(
            "SECRETWRAP_SUPERVISE",
          ),
        )
        .addOption(
          new Option(
            "--stop-timeout <duration>",
            "with --supervise: SIGKILL the command this long after the first TERM/INT",
          )
            .env("SECRETWRAP_STOP_TIMEOUT")
            .default(10_000, "10s")
            .argParser(parseDuration),
        )
        .addOption(
          new Option("--user <uid[:gid]>", "(root only) run the command and own its files as this user").env(
            "SECRETWRAP_USER",
          ),
        )
        .addOption(
          new Option(
            "--pristine",
            "the command gets only declared variables plus PATH, HOME, TERM, LANG",
          ).env("SECRETWRAP_PRISTINE"),
        )
        .addOption(
          new Option("--keep-env <name>", "keep this variable for the command (repeatable)")
            .env("SECRETWRAP_KEEP_ENV")
            .argParser(collect)
            .default([]),
        )
        .addHelpText(
          "after",
          `
Example:
  DB_PASSWORD_FILE=ref+vault://secret/myapp/db#password secretwrap run -- node server.js`,
        )
        .action(
          (
            command: string[],
            raw: RawCommon & {
              supervise?: boolean | string;
              stopTimeout: number;
              user?: string;
              pristine?: boolean | string;
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
                supervise: flag(raw.supervise),
                stopTimeoutMs: raw.stopTimeout,
                ...(raw.user === undefined ? {} : { user: raw.user }),
                pristine: flag(raw.pristine),
                keepEnv: raw.keepEnv,
              },
            });
          },
        ),
    check: () =>
      addCommonOptions(new Program("check"))
        .description("resolve every declared secret and report each one (never its value); exit as run would")
        .option("--json", "print a JSON report on stdout")
        .addHelpText(
          "after",
          `
Example:
  secretwrap check --config secretwrap.yaml --json`,
        )
        .action((raw: RawCommon & { json?: boolean }) =>
          onCommand({ kind: "check", options: common(raw), json: raw.json === true }),
        ),
    get: () =>
      addCommonOptions(new Program("get"))
        .description("print one secret's value to stdout")
        .argument("<ref>", "a reference, e.g. ref+vault://secret/myapp/db#password")
        .addHelpText(
          "after",
          `
Example:
  secretwrap get 'ref+awssecrets://prod/myapp#api_key' > /run/build-secret`,
        )
        .action((ref: string, raw: RawCommon) => onCommand({ kind: "get", options: common(raw), ref })),
    render: () =>
      addCommonOptions(new Program("render"))
        .description("write every declared secret as a file into a directory and exit (init containers)")
        .requiredOption("--out <dir>", "the directory to write into (tmpfs unless --allow-disk)")
        .addHelpText(
          "after",
          `
Example:
  secretwrap render --config /etc/secretwrap.yaml --out /secrets`,
        )
        .action((raw: RawCommon & { out: string }) =>
          onCommand({ kind: "render", options: common(raw), out: raw.out }),
        ),
    version: () =>
      new Program("version").description("print the version").action(() => {
        io.writeOut(`${VERSION}\n`);
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
          onCommand({ kind: "completion", shell, script: "" });
        }),
  };

  // Building a subcommand costs about a millisecond (commander checks every option as it is added):
  // a command line that names one builds only that one; help, completion and mistakes get them all.
  const names = only !== undefined && isSubcommandName(only) && only !== "completion" ? [only] : SUBCOMMANDS;
  for (const name of names) {
    const sub = subcommands[name]();
    sub.configureOutput(program.configureOutput()).exitOverride();
    program.addCommand(sub);
  }
  return program;
}

export interface CommandShape {
  readonly name: string;
  readonly options: readonly string[];
}

/** Commands and their long options, for completion scripts. */
export function describeCommands(program: Program): CommandShape[] {
  return program.commands.map((command) => ({
    name: command.name(),
    options: [...command.options.map((o) => o.long).filter((l): l is string => l !== undefined), "--help"],
  }));
}
