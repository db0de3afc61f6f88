// load → plan → resolve → output → exec. Every failure becomes one message and one exit code; the
// command is started only when every declared secret resolved.
import { parseCommandLine, unknownSettings, type Command, type CommonOptions } from "./cli.ts";
import { runCancellation } from "./cancellation.ts";
import { declare } from "./config/declare.ts";
import { deliver, filesToWrite } from "./deliver.ts";
import { asSecretwrapError, SecretsFailedError, SecretwrapError } from "./errors.ts";
import { checkEnvironmentLimits } from "./exec/exec-limits.ts";
import { appEnvironment, startCommand } from "./exec/start.ts";
import { parseUser, requireRoot, type Account } from "./exec/user.ts";
import { join } from "node:path";
import { createLogger, type Logger } from "./log.ts";
import { printable } from "./printable.ts";
import { withAccountHome } from "./output/env.ts";
import {
  DEFAULT_SECRETS_PARENT,
  DEFAULT_SECRETS_PREFIX,
  prepareSecretsDir,
  publishFiles,
  removeSecretsDir,
  validateSecretsDir,
  type SecretsDir,
} from "./output/files.ts";
import { Redactor } from "./redact.ts";
import { auditLine, consequenceOf, printCheck, reportError, type CheckProblem } from "./report.ts";
import { loadProvider } from "./provider.ts";
import { resolvePlan } from "./resolve.ts";
import { DEFAULT_RETRY } from "./retry.ts";
import { stoppedBy, type SignalRouter } from "./signals.ts";

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
    return await execute(command, io, log, redactor);
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

type Resolvable = Exclude<Command, { kind: "done" } | { kind: "completion" }>;

async function execute(command: Resolvable, io: MainIo, log: Logger, redactor: Redactor): Promise<number> {
  const options: CommonOptions = command.options;
  const appView = { ...io.env, ...io.appOnlyEnv };
  const user =
    command.kind === "run" ? command.options.user : command.kind === "render" ? command.user : undefined;
  const owner = user === undefined ? undefined : ownerFor(user);

  // `get` resolves only its argument: the environment and env-files declare nothing for it.
  const { loaded, plan } = await declare({
    command: command.kind,
    env: command.kind === "get" ? {} : appView,
    ...(options.config === undefined ? {} : { configPath: options.config }),
    envFiles: command.kind === "get" ? [] : options.envFiles,
    ...(command.kind === "get" ? { ref: command.ref } : {}),
    allowNames: options.allowNames,
    ...(command.kind === "run"
      ? { inheritance: { pristine: command.options.pristine, keepEnv: command.options.keepEnv } }
      : {}),
    allowEmpty: command.kind === "check" || command.kind === "render" ? command.allowEmpty : false,
  });
  for (const warning of loaded.warnings) log.warn(warning);

  // Check the secrets dir before any request: a wrong dir is a fast, local failure.
  const fileTargets =
    command.kind === "render" ? plan.targets : plan.targets.filter((t) => t.output.kind === "file");
  let dir: SecretsDir | undefined;
  if (fileTargets.length > 0 && (command.kind === "run" || command.kind === "render")) {
    const out = command.kind === "render" ? command.out : options.secretsDir;
    dir = prepareSecretsDir({
      ...(out === undefined ? {} : { dir: out }),
      allowDisk: options.allowDisk,
      ...(owner === undefined ? {} : { owner }),
      shared: command.kind === "render",
    });
    if (dir.warning !== undefined) log.warn(dir.warning);
  }
  // check runs run's local checks without writing anything, and reports them after every secret's
  // answer; its exit code is the one run would fail with (the dir first, as run checks it first).
  const problems: CheckProblem[] = [];
  if (fileTargets.length > 0 && command.kind === "check") {
    try {
      validateSecretsDir({
        ...(options.secretsDir === undefined ? {} : { dir: options.secretsDir }),
        allowDisk: options.allowDisk,
      });
    } catch (error) {
      problems.push({ check: "secrets-dir", error: asSecretwrapError(error) });
    }
  }
  try {
    const cancellation = runCancellation(io.router, options.timeoutMs);
    const resolution = await resolvePlan(plan, {
      loadProvider,
      env: appView,
      providerOptions: loaded.providerOptions,
      log,
      redactor,
      cancellation,
      retry: { ...DEFAULT_RETRY, attemptTimeoutMs: options.attemptTimeoutMs },
      concurrency: options.concurrency,
      stopOnFailure: command.kind !== "check",
    }).finally(cancellation.dispose);
    // A stop signal ends the run whatever the fetches reported (one may have ended by the deadline first).
    if (io.router.stopRequested !== undefined) throw stoppedBy(io.router.stopRequested);

    const { values, reports, failures, notFetched } = deliver(
      plan,
      resolution.outcomes,
      command.kind === "check" ? "run" : command.kind,
      redactor,
    );
    if (command.kind === "check") {
      if (failures.length === 0 && notFetched.length === 0) {
        const problem = environmentProblem(options, plan, loaded, appView, values, resolution.consumedEnv);
        if (problem !== undefined) problems.push(problem);
      }
      printCheck(io.writeOut, log, reports, command.json, redactor, problems);
      if (problems[0]?.check === "secrets-dir") throw problems[0].error;
    }
    // Fail closed: a secret that was not fetched is missing, whatever the reason.
    if (failures.length > 0 || notFetched.length > 0) {
      const skipped =
        notFetched.length === 0
          ? ""
          : ` (${notFetched.length} more not fetched after that: ${notFetched.join(", ")})`;
      throw new SecretsFailedError(
        failures,
        `${failures.length} of ${plan.targets.length} secrets could not be resolved${skipped}`,
      );
    }
    if (command.kind === "check") {
      if (problems[0] !== undefined) throw problems[0].error;
      return 0;
    }
    // Audit lines say a secret was delivered: only once it is (a full tmpfs may still fail the run).
    const audit = (): void => reports.forEach((report) => auditLine(log, report));

    if (command.kind === "get") {
      const value = values.get(plan.targets[0]?.name ?? "");
      if (value !== undefined) io.writeOut(value);
      audit();
      return 0;
    }
    const files = filesToWrite(command.kind === "render" ? plan.targets : fileTargets, values);
    const paths =
      dir === undefined
        ? new Map<string, string>()
        : publishFiles(dir.path, files, owner, {
            remove: command.kind === "run",
            warn: (message) => log.warn(message),
          });
    audit();
    if (command.kind === "render") {
      log.info(`wrote ${paths.size} file(s)`, { dir: dir?.path });
      return 0;
    }
    return await startCommand(command.options, command.command, {
      router: io.router,
      terminal: io.stdinIsTerminal,
      log,
      plan,
      loaded,
      appView: owner === undefined ? appView : withAccountHome(appView, owner.home, command.options.keepEnv),
      values,
      paths,
      consumedEnv: resolution.consumedEnv,
      dir,
      owner,
    });
  } catch (error) {
    if (dir !== undefined && dir.created) removeSecretsDir(dir);
    throw error;
  }
}

/**
 * `check` knows the app's environment but not its command: the environment run would build (a file
 * output's variable holds its path in --secrets-dir or a fresh dir's name) must fit the kernel's exec
 * limits by itself.
 */
function environmentProblem(
  options: CommonOptions,
  plan: Parameters<typeof appEnvironment>[1]["plan"],
  loaded: Parameters<typeof appEnvironment>[1]["loaded"],
  appView: Readonly<Record<string, string | undefined>>,
  values: ReadonlyMap<string, Uint8Array>,
  consumedEnv: readonly string[],
): CheckProblem | undefined {
  const dirPath = options.secretsDir ?? join(DEFAULT_SECRETS_PARENT, `${DEFAULT_SECRETS_PREFIX}XXXXXX`);
  const paths = new Map<string, string>();
  for (const target of plan.targets) {
    if (target.output.kind === "file" && values.has(target.name))
      paths.set(target.name, join(dirPath, target.output.fileName));
  }
  try {
    checkEnvironmentLimits(
      appEnvironment({ pristine: false, keepEnv: [] }, { plan, loaded, appView, values, paths, consumedEnv }),
    );
    return undefined;
  } catch (error) {
    return { check: "environment", error: asSecretwrapError(error) };
  }
}

function ownerFor(user: string): Account {
  const owner = parseUser(user);
  requireRoot();
  return owner;
}
