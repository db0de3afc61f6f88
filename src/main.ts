// load → plan → resolve → output → exec. Every failure becomes one message and one exit code; the
// command is started only when every declared secret resolved.
import { CommanderError } from "commander";
import { buildProgram, describeCommands, type Command, type CommonOptions, type RunOptions } from "./cli.ts";
import { completionScript } from "./completion.ts";
import { loadDeclarations, type Loaded } from "./config/load.ts";
import { describeRef, parseRef } from "./config/ref.ts";
import { asSecretwrapError, SecretsFailedError, SecretwrapError } from "./errors.ts";
import { execveAvailable, replaceProcess } from "./exec/execve.ts";
import { supervise } from "./exec/supervise.ts";
import { dropPrivileges, parseUser, requireRoot } from "./exec/user.ts";
import { which } from "./exec/which.ts";
import { selectField } from "./field.ts";
import { createLogger, type Logger } from "./log.ts";
import { buildChildEnv, envValue } from "./output/env.ts";
import {
  prepareSecretsDir,
  publishFiles,
  removeSecretsDir,
  type FileToWrite,
  type Owner,
  type SecretsDir,
} from "./output/files.ts";
import { buildPlan, DEFAULT_FILE_MODE, type Declaration, type Plan, type Target } from "./plan.ts";
import { Redactor } from "./redact.ts";
import { auditLine, reportError, type SecretReport } from "./report.ts";
import { resolvePlan, type FetchOutcome } from "./resolve.ts";
import { DEFAULT_RETRY } from "./retry.ts";
import { signalNumber, type SignalRouter } from "./signals.ts";

export interface MainIo {
  readonly argv: readonly string[];
  /** secretwrap's own environment, app-only variables already taken out. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Variables meant for the app only (NODE_OPTIONS, proxies, …), handed back to it unchanged. */
  readonly appOnlyEnv: Readonly<Record<string, string>>;
  readonly router: SignalRouter;
  readonly writeOut: (text: string | Uint8Array) => void;
  readonly writeErr: (text: string) => void;
  readonly isTerminal: boolean;
}

export async function main(io: MainIo): Promise<number> {
  const redactor = new Redactor();
  let log = createLogger({ level: "info", format: "text", redactor, write: io.writeErr });
  try {
    const command = parseCommand(io);
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
    });
    return await execute(command, io, log, redactor);
  } catch (error) {
    const failure = asSecretwrapError(error);
    // A bug report needs the stack, not the message: messages of foreign errors can carry values.
    if (failure.code === "INTERNAL" && failure.cause instanceof Error) {
      log.debug("internal error stack", { stack: failure.cause.stack?.split("\n").slice(1).join("\n") });
    }
    reportError(log, failure, failure.code === "USAGE" ? "see --help" : "the command was not started");
    return failure.exitCode;
  }
}

function parseCommand(io: MainIo): Command {
  let parsed: Command | undefined;
  const program = buildProgram({ writeOut: (t) => io.writeOut(t), writeErr: io.writeErr }, (command) => {
    parsed = command;
  });
  try {
    program.parse(io.argv, { from: "user" });
  } catch (error) {
    if (error instanceof SecretwrapError) throw error;
    if (error instanceof CommanderError) {
      // help and version exit 0; commander already printed its message for the rest
      if (error.exitCode === 0) return { kind: "done", exitCode: 0 };
      return { kind: "done", exitCode: 64 };
    }
    throw error;
  }
  if (parsed === undefined) {
    program.outputHelp({ error: true });
    return { kind: "done", exitCode: 64 };
  }
  if (parsed.kind === "completion")
    return { ...parsed, script: completionScript(parsed.shell, describeCommands(program)) };
  return parsed;
}

type Resolvable = Exclude<Command, { kind: "done" } | { kind: "completion" }>;

async function execute(command: Resolvable, io: MainIo, log: Logger, redactor: Redactor): Promise<number> {
  const options: CommonOptions = command.options;
  const appView = { ...io.env, ...io.appOnlyEnv };
  const owner =
    command.kind === "run" && command.options.user !== undefined ? ownerFor(command.options.user) : undefined;

  const loaded = await loadDeclarations({
    env: command.kind === "get" ? {} : appView,
    ...(options.config === undefined ? {} : { configPath: options.config }),
    ...(options.envFile === undefined || command.kind === "get" ? {} : { envFile: options.envFile }),
  });
  const declarations: readonly Declaration[] =
    command.kind === "get"
      ? [{ name: "value", ref: parseRef(command.ref), optional: false, source: "argument" }]
      : loaded.declarations;
  const plan = buildPlan(declarations, new Set([...options.allowNames, ...loaded.allowNames]));
  if (plan.targets.length === 0 && command.kind !== "run") log.warn("no secrets are declared");

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
  }
  try {
    const stop = new AbortController();
    const unsubscribe = io.router.onStop(() => stop.abort());
    const interrupted = (): SecretwrapError | undefined => {
      const signal = io.router.stopRequested;
      return signal === undefined ? undefined : stoppedBy(signal);
    };
    const resolution = await resolvePlan(plan, {
      env: appView,
      providerOptions: loaded.providerOptions,
      log,
      redactor,
      deadline: {
        signal: AbortSignal.any([stop.signal, AbortSignal.timeout(options.timeoutMs)]),
        at: Date.now() + options.timeoutMs,
        interrupted,
      },
      retry: { ...DEFAULT_RETRY, attemptTimeoutMs: options.attemptTimeoutMs },
      concurrency: options.concurrency,
    });
    unsubscribe();
    const stopped = interrupted();
    if (stopped !== undefined) throw stopped;

    // render and get hand over raw bytes; only env outputs must be text without NUL.
    const { values, reports, failures } = deliver(
      plan,
      resolution.outcomes,
      command.kind === "render" || command.kind === "get",
      redactor,
    );
    if (command.kind === "check") {
      printCheck(io, log, reports, command.json);
      if (failures.length > 0)
        throw new SecretsFailedError(
          failures,
          `${failures.length} of ${plan.targets.length} secrets could not be resolved`,
        );
      return 0;
    }
    if (failures.length > 0)
      throw new SecretsFailedError(
        failures,
        `${failures.length} of ${plan.targets.length} secrets could not be resolved`,
      );
    for (const report of reports) auditLine(log, report);

    if (command.kind === "get") {
      const value = values.get("value");
      if (value !== undefined) io.writeOut(value);
      return 0;
    }
    const files = filesToWrite(command.kind === "render" ? plan.targets : fileTargets, values);
    const paths = dir === undefined ? new Map<string, string>() : publishFiles(dir.path, files, owner);
    if (command.kind === "render") {
      log.info(`wrote ${paths.size} file(s)`, { dir: dir?.path });
      return 0;
    }
    return await startCommand(command.options, command.command, {
      io,
      log,
      plan,
      loaded,
      appView,
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

function stoppedBy(signal: NodeJS.Signals): SecretwrapError {
  return new SecretwrapError("INTERRUPTED", `stopped by ${signal} before the command started`, {
    exitCode: 128 + signalNumber(signal),
  });
}

function ownerFor(user: string): Owner {
  const owner = parseUser(user);
  requireRoot();
  return owner;
}

interface Delivery {
  /** Target name → bytes it receives (only targets that resolved). */
  readonly values: Map<string, Uint8Array>;
  readonly reports: SecretReport[];
  readonly failures: SecretwrapError[];
}

/** Outcomes per fetch → bytes per target, with #field applied and optional absences tolerated. */
function deliver(
  plan: Plan,
  outcomes: ReadonlyMap<string, FetchOutcome>,
  allAsFiles: boolean,
  redactor: Redactor,
): Delivery {
  const values = new Map<string, Uint8Array>();
  const reports: SecretReport[] = [];
  const failures: SecretwrapError[] = [];
  for (const target of plan.targets) {
    const outcome = outcomes.get(target.key);
    const base = {
      name: target.name,
      provider: target.ref.scheme,
      ref: describeRef(target.ref.raw),
      target:
        allAsFiles || target.output.kind === "file"
          ? `file:${target.output.kind === "file" ? target.output.fileName : target.name}`
          : "env",
    };
    const fail = (error: SecretwrapError, durationMs?: number): void => {
      const failure = error.about({ secret: target.name, ref: base.ref });
      failures.push(failure);
      reports.push({
        ...base,
        version: undefined,
        durationMs,
        status: "failed",
        code: failure.code,
        error: failure.message,
      });
    };
    if (outcome === undefined) {
      fail(new SecretwrapError("INTERNAL", "no fetch result for this secret"));
      continue;
    }
    if (!outcome.ok) {
      if (target.optional && outcome.error.code === "SECRET_NOT_FOUND") {
        reports.push({ ...base, version: undefined, durationMs: undefined, status: "absent" });
      } else {
        fail(outcome.error);
      }
      continue;
    }
    try {
      const bytes = selectField(outcome.fetched, target.ref.field);
      // The whole secret is already masked; the selected value may be a shorter string inside it.
      redactor.add(bytes);
      if (!allAsFiles && target.output.kind === "env") envValue(bytes, target.name);
      values.set(target.name, bytes);
      reports.push({
        ...base,
        version: outcome.fetched.version,
        durationMs: outcome.durationMs,
        status: "ok",
        ...(outcome.fetched.audit === undefined ? {} : { audit: outcome.fetched.audit }),
      });
    } catch (error) {
      fail(asSecretwrapError(error), outcome.durationMs);
    }
  }
  return { values, reports, failures };
}

function filesToWrite(targets: readonly Target[], values: ReadonlyMap<string, Uint8Array>): FileToWrite[] {
  const files: FileToWrite[] = [];
  for (const target of targets) {
    const bytes = values.get(target.name);
    if (bytes === undefined) continue; // optional and absent
    const output =
      target.output.kind === "file" ? target.output : { fileName: target.name, mode: DEFAULT_FILE_MODE };
    files.push({ name: target.name, fileName: output.fileName, mode: output.mode, bytes });
  }
  return files;
}

function printCheck(io: MainIo, log: Logger, reports: readonly SecretReport[], json: boolean): void {
  if (json) {
    const ok = reports.every((r) => r.status !== "failed");
    io.writeOut(JSON.stringify({ ok, secrets: reports }, null, 2) + "\n");
    return;
  }
  for (const report of reports) {
    const status =
      report.status === "failed"
        ? `FAILED ${report.code ?? ""}`
        : report.status === "absent"
          ? "absent (optional)"
          : "ok";
    log.error(`check ${report.name}: ${status}`, {
      provider: report.provider,
      ref: report.ref,
      version: report.version,
      target: report.target,
      durationMs: report.durationMs,
    });
  }
}

interface StartContext {
  readonly io: MainIo;
  readonly log: Logger;
  readonly plan: Plan;
  readonly loaded: Loaded;
  readonly appView: Readonly<Record<string, string | undefined>>;
  readonly values: ReadonlyMap<string, Uint8Array>;
  readonly paths: ReadonlyMap<string, string>;
  readonly consumedEnv: readonly string[];
  readonly dir: SecretsDir | undefined;
  readonly owner: Owner | undefined;
}

async function startCommand(
  options: RunOptions,
  command: readonly string[],
  ctx: StartContext,
): Promise<number> {
  const assigned = new Map<string, string>();
  for (const target of ctx.plan.targets) {
    const path = ctx.paths.get(target.name);
    const bytes = ctx.values.get(target.name);
    if (target.output.kind === "file" && path !== undefined) assigned.set(target.name, path);
    else if (target.output.kind === "env" && bytes !== undefined)
      assigned.set(target.name, envValue(bytes, target.name));
  }
  const env = buildChildEnv({
    inherited: ctx.appView,
    pristine: options.pristine,
    keepEnv: options.keepEnv,
    envFileValues: ctx.loaded.envFileValues,
    declaredNames: new Set(ctx.plan.targets.map((t) => t.name)),
    assigned,
    consumedEnv: ctx.consumedEnv,
  });
  const [program, ...args] = command as [string, ...string[]];
  const path = which(program, env["PATH"]);
  // From here to the exec or spawn nothing awaits, so a stop signal either arrived already (and the
  // command is not started) or is handled after the hand-over (and goes to the command).
  const stopped = ctx.io.router.stopRequested;
  if (stopped !== undefined) throw stoppedBy(stopped);
  if (!options.supervise && execveAvailable()) {
    ctx.log.debug("replacing secretwrap with the command", { command: program });
    if (ctx.owner !== undefined) dropPrivileges(ctx.owner);
    return replaceProcess(path, [program, ...args], env);
  }
  if (process.pid === 1) {
    ctx.log.warn(
      "running as PID 1 in --supervise mode: orphaned processes will not be reaped; use tini or `docker run --init` as PID 1",
    );
  }
  if (ctx.consumedEnv.some((name) => ctx.appView[name] !== undefined)) {
    // The kernel keeps a process's initial environment in /proc/<pid>/environ whatever Node deletes.
    ctx.log.warn(
      `credentials were read from the environment (${ctx.consumedEnv.join(", ")}); in --supervise mode they stay readable in /proc/${process.pid}/environ by this user for the app's lifetime: prefer credential files, exec mode, or --user`,
    );
  }
  ctx.log.debug("starting the command as a supervised child", { command: program });
  try {
    return await supervise({
      path,
      argv: [program, ...args],
      env,
      stopTimeoutMs: options.stopTimeoutMs,
      router: ctx.io.router,
      log: ctx.log,
      terminal: ctx.io.isTerminal,
      ...(ctx.owner === undefined ? {} : { owner: ctx.owner }),
    });
  } finally {
    // The app has exited: its secret files are no longer needed by anyone.
    if (ctx.dir !== undefined) removeSecretsDir(ctx.dir);
  }
}
