// The CLI's main: the command line → one command module (src/commands/), with every failure turned
// into one message and one exit code. The process's own start is bin.ts → supervisor-or-cli.ts.
import { parseCommandLine, unknownSettings, type Command } from "./cli.ts";
import { check } from "./commands/check.ts";
import type { CommandContext } from "./commands/context.ts";
import { get } from "./commands/get.ts";
import { render } from "./commands/render.ts";
import { run } from "./commands/run.ts";
import { exportSecrets } from "./commands/export.ts";
import { asSecretwrapError, type SecretwrapError } from "./errors.ts";
import { createLogger } from "./log.ts";
import { printable } from "./printable.ts";
import { Redactor } from "./redact.ts";
import { consequenceOf, reportError } from "./report.ts";
import type { SignalRouter } from "./signals.ts";

export interface MainIo {
  readonly argv: readonly string[];
  /** secretwrap's own environment, app-only variables already taken out. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Variables meant for the app only (NODE_OPTIONS, proxies, …), handed back to it unchanged. */
  readonly appOnlyEnv: Readonly<Record<string, string>>;
  /** The caller's environment could not be taken over exactly (src/launch/environ-problem.ts). */
  readonly environmentProblem?: SecretwrapError | undefined;
  readonly router: SignalRouter;
  readonly writeOut: (text: string | Uint8Array) => void;
  readonly writeErr: (text: string) => void;
  /** Asked only in --supervise mode: process.stdin alone loads Node's streams (~4 ms of start-up). */
  readonly stdinIsTerminal: () => boolean;
  /** Asked only by export, which refuses to print values on a terminal. */
  readonly stdoutIsTerminal: () => boolean;
}

export async function main(io: MainIo): Promise<number> {
  const redactor = new Redactor();
  // secretwrap's command line is public (/proc/<pid>/cmdline): its words are never masks (R10).
  const known = io.argv;
  let log = createLogger({ level: "info", format: "text", redactor, write: io.writeErr, known });
  let kind: Command["kind"] | undefined;
  try {
    const command = parseCommand(io);
    kind = command.kind;
    if (command.kind === "done") return command.exitCode;
    if (command.kind === "completion") {
      io.writeOut(command.script);
      return 0;
    }
    log = createLogger({
      level: command.options.logLevel,
      format: command.options.logFormat,
      redactor,
      write: io.writeErr,
      known,
    });
    for (const name of unknownSettings(io.env))
      log.warn(`${printable(name)}: not a secretwrap setting; ignored (and not passed to the command)`);
    if (io.environmentProblem !== undefined) throw io.environmentProblem;
    return await dispatch(command, {
      appView: { ...io.env, ...io.appOnlyEnv },
      router: io.router,
      writeOut: io.writeOut,
      stdinIsTerminal: io.stdinIsTerminal,
      stdoutIsTerminal: io.stdoutIsTerminal,
      log,
      redactor,
    });
  } catch (error) {
    const failure = asSecretwrapError(error);
    // A bug report needs the stack, not the message: messages of foreign errors can carry values.
    if (failure.code === "INTERNAL" && failure.cause instanceof Error) {
      log.debug("internal error stack", { stack: failure.cause.stack?.split("\n").slice(1).join("\n") });
    }
    reportError(log, failure, consequenceOf(kind, failure));
    return failure.exitCode;
  }
}

function parseCommand(io: MainIo): Command {
  return parseCommandLine(io.argv, { writeOut: (t) => io.writeOut(t), writeErr: io.writeErr, env: io.env });
}

/** Each command is its own module (src/commands/), a short list of shared steps. */
function dispatch(command: Resolvable, ctx: CommandContext): Promise<number> {
  switch (command.kind) {
    case "run":
      return run(command, ctx);
    case "check":
      return check(command, ctx);
    case "get":
      return get(command, ctx);
    case "render":
      return render(command, ctx);
    case "export":
      return exportSecrets(command, ctx);
  }
}

type Resolvable = Exclude<Command, { kind: "done" } | { kind: "completion" }>;
