// Hand over to the command: build its environment, then replace secretwrap with it (execve) or
// supervise it as a child.
import type { RunOptions } from "../cli.ts";
import type { Loaded } from "../config/load.ts";
import type { Logger } from "../log.ts";
import { buildChildEnv, envValue } from "../output/env.ts";
import { removeSecretsDir, type Owner, type SecretsDir } from "../output/files.ts";
import type { Plan } from "../plan.ts";
import { stoppedBy, type SignalRouter } from "../signals.ts";
import { containerMark } from "./container.ts";
import { setCoreDumpFilter } from "./coredump.ts";
import { checkExec } from "./exec-check.ts";
import { checkExecLimits } from "./exec-limits.ts";
import { execveAvailable, replaceProcess } from "./execve.ts";
import { handOverToSupervisor } from "./handover.ts";
import { dropPrivileges } from "./user.ts";
import { which } from "./which.ts";

export interface StartContext {
  readonly router: SignalRouter;
  readonly terminal: () => boolean;
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

/** The environment the app starts with: `run` execs with it, `check` measures it (exec-limits.ts). */
export function appEnvironment(
  options: Pick<RunOptions, "pristine" | "keepEnv">,
  ctx: Pick<StartContext, "plan" | "loaded" | "appView" | "values" | "paths" | "consumedEnv">,
): Record<string, string> {
  const assigned = new Map<string, string>();
  for (const target of ctx.plan.targets) {
    const path = ctx.paths.get(target.name);
    const bytes = ctx.values.get(target.name);
    if (target.output.kind === "file" && path !== undefined) assigned.set(target.name, path);
    else if (target.output.kind === "env" && bytes !== undefined)
      assigned.set(target.name, envValue(bytes, target.name));
  }
  return buildChildEnv({
    inherited: ctx.appView,
    pristine: options.pristine,
    keepEnv: options.keepEnv,
    envFileValues: ctx.loaded.envFileValues,
    declaredNames: new Set(ctx.plan.targets.map((t) => t.name)),
    assigned,
    consumedEnv: ctx.consumedEnv,
  });
}

export async function startCommand(
  options: RunOptions,
  command: readonly string[],
  ctx: StartContext,
): Promise<number> {
  const env = appEnvironment(options, ctx);
  const [program, ...args] = command as [string, ...string[]];
  const path = which(program, env["PATH"]);
  checkExecLimits(path, [program, ...args], env);
  // What the kernel would refuse (format, #! chain, permission for --user, a writer): 126/127 now,
  // never Node 24's abort at process.execve with the caller's core filter back (exec-check.ts).
  checkExec(path, program, ctx.owner);
  // A secrets dir this run created outlives an exec'd app. In a container its tmpfs dies with the
  // container; on a workstation it would stay until reboot, so there a supervisor stays to remove it
  // when the app exits (container.ts).
  const removeDirAfter =
    ctx.dir?.created === true &&
    containerMark({ root: "/", env: ctx.appView, pid: process.pid }) === undefined;
  // Where Node can exec: replace secretwrap with the command, or with --supervise become the slim
  // supervisor (handover.ts). Not as PID 1, where a TERM during the new image's start-up would be
  // discarded by the kernel instead of ending the run: there secretwrap supervises in-process.
  // Outside a container secretwrap supervises in its own process, not through the slim supervisor: a
  // stop signal during the supervisor's own Node start-up (~40 ms, default dispositions) would kill it
  // before it could remove the dir, and leave the secrets in /dev/shm until reboot.
  const replace = !options.supervise && !removeDirAfter && execveAvailable();
  const handOver = options.supervise && !removeDirAfter && execveAvailable() && process.pid !== 1;
  // child_process is loaded only for in-process supervision, and before the last check: from that
  // check to the exec or spawn nothing may await, so a stop signal either arrived already (and the
  // command is not started), or kills secretwrap by default (exec paths), or goes to the child.
  const supervise = replace || handOver ? undefined : (await import("./supervise.ts")).supervise;
  const stopped = await ctx.router.lastCheck({ disarm: replace || handOver });
  if (stopped !== undefined) throw stoppedBy(stopped);
  if (handOver) {
    ctx.log.debug("handing over to a slim supervisor", { command: program });
    return handOverToSupervisor(
      {
        path,
        argv: [program, ...args],
        stopTimeoutMs: options.stopTimeoutMs,
        terminal: ctx.terminal(),
        ...(ctx.dir?.created === true ? { secretsDir: ctx.dir.path } : {}),
        // Only the ids travel: the account's HOME is already in the app's environment.
        ...(ctx.owner === undefined ? {} : { owner: { uid: ctx.owner.uid, gid: ctx.owner.gid } }),
        logLevel: options.logLevel,
        logFormat: options.logFormat,
        secretNames: ctx.plan.targets.filter((t) => t.output.kind === "env").map((t) => t.name),
        // The filter stays 0 across this exec; the supervisor gives the caller's to the app.
        ...(ctx.router.appCoreDumpFilter === undefined
          ? {}
          : { coreDumpFilter: ctx.router.appCoreDumpFilter }),
      },
      env,
    );
  }
  if (supervise === undefined) {
    ctx.log.debug("replacing secretwrap with the command", { command: program });
    // Before the privilege drop: a process whose uid changed can no longer write its own /proc files.
    setCoreDumpFilter(ctx.router.appCoreDumpFilter);
    try {
      if (ctx.owner !== undefined) dropPrivileges(ctx.owner);
      return replaceProcess(path, [program, ...args], env);
    } catch (error) {
      setCoreDumpFilter("0");
      throw error;
    }
  }
  if (process.pid === 1) {
    ctx.log.warn(
      "running as PID 1 in --supervise mode: orphaned processes will not be reaped; use tini or `docker run --init` as PID 1",
    );
  }
  if (ctx.consumedEnv.some((name) => ctx.appView[name] !== undefined)) {
    // The kernel keeps a process's initial environment in /proc/<pid>/environ whatever Node deletes.
    ctx.log.warn(
      `credentials were read from the environment (${ctx.consumedEnv.join(", ")}); while secretwrap supervises the command they stay readable in /proc/${process.pid}/environ by this user for the app's lifetime: prefer credential files, exec mode, or --user`,
    );
  }
  ctx.log.debug(
    removeDirAfter
      ? "not in a container: secretwrap supervises the command and removes the secrets dir when it exits"
      : "starting the command as a supervised child",
    { command: program },
  );
  try {
    return await supervise({
      path,
      argv: [program, ...args],
      env,
      stopTimeoutMs: options.stopTimeoutMs,
      router: ctx.router,
      log: ctx.log,
      terminal: ctx.terminal(),
      appCoreDumpFilter: ctx.router.appCoreDumpFilter,
      ...(ctx.owner === undefined ? {} : { owner: ctx.owner }),
    });
  } finally {
    // The app has exited: its secret files are no longer needed by anyone.
    if (ctx.dir !== undefined) removeSecretsDir(ctx.dir);
  }
}
