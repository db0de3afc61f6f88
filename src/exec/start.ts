// Start the app with the environment the run built: replace secretwrap with it (execve), hand over
// to the slim supervisor, or supervise it as a child in this process. Which one is decided here.
import type { Logger, LogFormat, LogLevel } from "../log.ts";
import { removeSecretsDir, type Owner, type SecretsDir } from "../output/files.ts";
import { stoppedBy, type SignalRouter } from "../signals.ts";
import { containerMark } from "./container.ts";
import { setCoreDumpFilter } from "./coredump.ts";
import { checkExec } from "./exec-check.ts";
import { checkExecLimits } from "./exec-limits.ts";
import { execveAvailable, replaceProcess } from "./execve.ts";
import { handOverToSupervisor } from "./handover.ts";
import { dropPrivileges } from "./user.ts";
import { which } from "./which.ts";

export interface StartInput {
  /** The command and its arguments; the first word is looked up on the app's PATH. */
  readonly command: readonly string[];
  /** The app's environment (app-environment.ts). */
  readonly env: Readonly<Record<string, string>>;
  /** The environment secretwrap started with, as the app sees it: where credentials were read. */
  readonly appView: Readonly<Record<string, string | undefined>>;
  /** Bootstrap credentials the providers read from the environment. */
  readonly consumedEnv: readonly string[];
  /** The variables that hold secret values: the slim supervisor masks them in its output. */
  readonly secretNames: readonly string[];
  /** --supervise and --stop-timeout. */
  readonly supervise: boolean;
  readonly stopTimeoutMs: number;
  /** How the slim supervisor logs (--log-level, --log-format). */
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  readonly dir: SecretsDir | undefined;
  /** --user: the account the app runs as. */
  readonly owner: Owner | undefined;
  readonly router: SignalRouter;
  readonly terminal: () => boolean;
  readonly log: Logger;
}

/**
 * The command's file, found on the app's PATH and checked before anything starts: what the kernel
 * would refuse (format, #! chain, permission for --user, a writer) is 126/127 now, never Node 24's
 * abort at process.execve with the caller's core filter back (exec-check.ts), and an environment
 * too large for exec is a clear error.
 */
export function commandPath(
  command: readonly string[],
  env: Readonly<Record<string, string>>,
  owner: Owner | undefined,
): string {
  const [program, ...args] = command as [string, ...string[]];
  const path = which(program, env["PATH"]);
  checkExecLimits(path, [program, ...args], env);
  checkExec(path, program, owner);
  return path;
}

/** What supervising in secretwrap's own process means for the user, said once before the app starts. */
export function warnSupervising(input: Pick<StartInput, "appView" | "consumedEnv" | "log">): void {
  const { log } = input;
  if (process.pid === 1) {
    log.warn(
      "running as PID 1 in --supervise or --watch mode: orphaned processes will not be reaped; use tini or `docker run --init` as PID 1",
    );
  }
  if (input.consumedEnv.some((name) => input.appView[name] !== undefined)) {
    // The kernel keeps a process's initial environment in /proc/<pid>/environ whatever Node deletes.
    log.warn(
      `credentials were read from the environment (${input.consumedEnv.join(", ")}); while secretwrap supervises the command they stay readable in /proc/${process.pid}/environ by this user for the app's lifetime: prefer credential files, exec mode, or --user`,
    );
  }
}

export async function startCommand(input: StartInput): Promise<number> {
  const { env, router, log, owner, dir } = input;
  const [program, ...args] = input.command as [string, ...string[]];
  const path = commandPath(input.command, env, owner);
  // A secrets dir this run created outlives an exec'd app. In a container its tmpfs dies with the
  // container; on a workstation it would stay until reboot, so there a supervisor stays to remove it
  // when the app exits (container.ts).
  const removeDirAfter =
    dir?.created === true && containerMark({ root: "/", env: input.appView, pid: process.pid }) === undefined;
  // Where Node can exec: replace secretwrap with the command, or with --supervise become the slim
  // supervisor (handover.ts). Not as PID 1, where a TERM during the new image's start-up would be
  // discarded by the kernel instead of ending the run: there secretwrap supervises in-process.
  // Outside a container secretwrap supervises in its own process, not through the slim supervisor: a
  // stop signal during the supervisor's own Node start-up (~40 ms, default dispositions) would kill it
  // before it could remove the dir, and leave the secrets in /dev/shm until reboot.
  const replace = !input.supervise && !removeDirAfter && execveAvailable();
  const handOver = input.supervise && !removeDirAfter && execveAvailable() && process.pid !== 1;
  // child_process is loaded only for in-process supervision, and before the last check: from that
  // check to the exec or spawn nothing may await, so a stop signal either arrived already (and the
  // command is not started), or kills secretwrap by default (exec paths), or goes to the child.
  const superviseChild =
    replace || handOver ? undefined : (await import("./supervise-child.ts")).superviseChild;
  const stopped = await router.lastCheck({ disarm: replace || handOver });
  if (stopped !== undefined) throw stoppedBy(stopped);
  if (handOver) {
    log.debug("handing over to a slim supervisor", { command: program });
    return handOverToSupervisor(
      {
        path,
        argv: [program, ...args],
        stopTimeoutMs: input.stopTimeoutMs,
        terminal: input.terminal(),
        ...(dir?.created === true ? { secretsDir: dir.path } : {}),
        // Only the ids travel: the account's HOME is already in the app's environment.
        ...(owner === undefined ? {} : { owner: { uid: owner.uid, gid: owner.gid } }),
        logLevel: input.logLevel,
        logFormat: input.logFormat,
        secretNames: [...input.secretNames],
        // The filter stays 0 across this exec; the supervisor gives the caller's to the app.
        ...(router.appCoreDumpFilter === undefined ? {} : { coreDumpFilter: router.appCoreDumpFilter }),
      },
      env,
    );
  }
  if (superviseChild === undefined) {
    log.debug("replacing secretwrap with the command", { command: program });
    // Before the privilege drop: a process whose uid changed can no longer write its own /proc files.
    setCoreDumpFilter(router.appCoreDumpFilter);
    try {
      if (owner !== undefined) dropPrivileges(owner);
      return replaceProcess(path, [program, ...args], env);
    } catch (error) {
      setCoreDumpFilter("0");
      throw error;
    }
  }
  warnSupervising(input);
  log.debug(
    removeDirAfter
      ? "not in a container: secretwrap supervises the command and removes the secrets dir when it exits"
      : "starting the command as a supervised child",
    { command: program },
  );
  try {
    return await superviseChild({
      path,
      argv: [program, ...args],
      env,
      stopTimeoutMs: input.stopTimeoutMs,
      router,
      log,
      terminal: input.terminal(),
      appCoreDumpFilter: router.appCoreDumpFilter,
      ...(owner === undefined ? {} : { owner }),
    });
  } finally {
    // The app has exited: its secret files are no longer needed by anyone.
    if (dir !== undefined) removeSecretsDir(dir);
  }
}
