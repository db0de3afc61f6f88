// `render --watch --out DIR`: the sidecar form. The files in DIR are kept current (swapped as one set
// when a secret changes, leases and tokens renewed) until secretwrap is stopped; after each swap
// --on-change exec:CMD runs CMD so a sidecar can tell its app. TERM, INT or QUIT end it cleanly (exit
// 0, leases and token revoked); HUP checks every secret at once; a credential that cannot be kept
// alive ends it with 77/69 (--on-expiry exit), --on-change exit with 75. The files stay: render's
// files outlive it by design.
import { spawn, type ChildProcess } from "node:child_process";
import type { CommandContext } from "../commands/context.ts";
import { writeFiles, type FetchedSecrets } from "../commands/steps.ts";
import { withAppCoreDumpFilter } from "../exec/coredump.ts";
import type { SecretwrapError } from "../errors.ts";
import type { Owner, SecretsDir } from "../output/files.ts";
import { buildChildEnv } from "../output/env.ts";
import type { Plan } from "../plan.ts";
import { reportError } from "../report.ts";
import { DEFAULT_RETRY } from "../retry.ts";
import { SECRETS_CHANGED_EXIT, type WatchOptions } from "./options.ts";
import { Watch } from "./watch.ts";

export interface RenderWatchInput {
  readonly plan: Plan;
  readonly fetched: FetchedSecrets;
  readonly dir: SecretsDir | undefined;
  readonly owner: Owner | undefined;
  readonly watch: WatchOptions;
  readonly timeoutMs: number;
  readonly attemptTimeoutMs: number;
  readonly concurrency: number;
}

/** How long an exec:CMD may run before it is killed: it must not hold up the next change for ever. */
const EXEC_TIMEOUT_MS = 60_000;

/** When render --watch stops, how long a running exec:CMD has after SIGTERM before SIGKILL. */
const EXEC_STOP_GRACE_MS = 2_000;

export async function renderWatched(input: RenderWatchInput, ctx: CommandContext): Promise<number> {
  const { plan, fetched, dir, owner } = input;
  const { log, router } = ctx;
  let finish: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => (finish = resolve));
  // Built on first use, inside the try below: whatever fails still ends the watch (revoke, close).
  let commandEnv: Record<string, string> | undefined;
  const commands = new RunningCommands();
  const watch = new Watch({
    plan,
    mode: "render",
    sessions: fetched.resolution.sessions,
    outcomes: fetched.resolution.outcomes,
    delivered: fetched.values,
    deliveredPlan: fetched.plan,
    options: input.watch,
    timeoutMs: input.timeoutMs,
    concurrency: input.concurrency,
    rules: {
      log,
      redactor: ctx.redactor,
      retry: { ...DEFAULT_RETRY, attemptTimeoutMs: input.attemptTimeoutMs },
    },
    log,
    deliver: async (change, values, delivered) => {
      writeFiles(ctx, dir, delivered.targets, values, {
        owner,
        remove: false,
        asSet: true,
        ...(delivered.templates === undefined ? {} : { templates: delivered.templates }),
      });
      const onChange = input.watch.onChange;
      if (onChange.kind === "exit") {
        log.info(`${change.names.join(", ")} changed; exiting (--on-change exit)`);
        finish(SECRETS_CHANGED_EXIT);
      } else if (onChange.kind === "exec") {
        commandEnv ??= execEnvironment(ctx, plan, fetched);
        await commands.run(onChange.command, commandEnv, ctx);
      }
      return undefined; // render has only files: every one was swapped
    },
    expired: (error: SecretwrapError) => {
      if (input.watch.onExpiry === "warn") {
        log.warn(`${error.message}; the files stay as they are (--on-expiry warn)`);
        return;
      }
      reportError(log, error, "render --watch stops (--on-expiry exit)");
      finish(error.exitCode);
    },
  });
  try {
    // TERM, INT or QUIT end the watch cleanly; HUP asks for a check of every secret now (a sidecar has
    // no app to pass it to); the other signals are ignored.
    router.forwardTo((signal) => {
      if (signal === "SIGHUP") {
        log.info("SIGHUP: checking every secret now");
        void watch.refreshNow();
      } else if (signal === "SIGTERM" || signal === "SIGINT" || signal === "SIGQUIT") {
        log.info(`stopped by ${signal}`);
        finish(0);
      }
    });
    if (router.stopRequested !== undefined) finish(0);
    await watch.start();
    return await done;
  } finally {
    // A notifier that hangs must not hold up the exit (and the revocation) past an orchestrator's grace period.
    commands.stop();
    await watch.stop();
    await watch.end();
  }
}

/**
 * exec:CMD gets secretwrap's environment without its settings, the credentials it consumed and the
 * references it resolved (the values are in the files, not in CMD's environment).
 */
function execEnvironment(ctx: CommandContext, plan: Plan, fetched: FetchedSecrets): Record<string, string> {
  return buildChildEnv({
    inherited: ctx.appView,
    pristine: false,
    keepEnv: [],
    envFileValues: {},
    declaredNames: new Set(plan.targets.map((t) => t.name)),
    assigned: new Map(),
    consumedEnv: fetched.consumedEnv,
  });
}

/**
 * exec:CMD after a swap: through sh -c, with secretwrap's environment minus its own settings, in a
 * process group of its own, so a timeout or a stop ends the command and whatever it started.
 */
class RunningCommands {
  #current: ChildProcess | undefined;
  #stopped = false;

  run(command: string, env: Record<string, string>, ctx: CommandContext): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      // With the caller's core dump filter, as the app of run gets it (secretwrap's own is 0).
      const child = withAppCoreDumpFilter(ctx.router.appCoreDumpFilter, () =>
        spawn("/bin/sh", ["-c", command], { stdio: ["ignore", "inherit", "inherit"], env, detached: true }),
      );
      this.#current = child;
      const timer = setTimeout(() => killGroup(child, "SIGKILL"), EXEC_TIMEOUT_MS);
      const done = (): void => {
        clearTimeout(timer);
        if (this.#current === child) this.#current = undefined;
        resolve();
      };
      child.once("error", (error) => {
        ctx.log.warn(`--on-change exec: could not run the command: ${error.message}`);
        done();
      });
      child.once("exit", (code, signal) => {
        if (code !== 0) ctx.log.warn(`--on-change exec: the command ended with ${signal ?? `code ${code}`}`);
        else ctx.log.debug("--on-change exec: the command succeeded");
        done();
      });
    });
  }

  /** No command runs after this; the running one gets SIGTERM, and SIGKILL if it is still there later. */
  stop(): void {
    this.#stopped = true;
    const child = this.#current;
    if (child === undefined) return;
    killGroup(child, "SIGTERM");
    setTimeout(() => killGroup(child, "SIGKILL"), EXEC_STOP_GRACE_MS).unref();
  }
}

/**
 * Signals the command's process group: sh and what it started. The group's id stays taken while any
 * of them lives, so after they are all gone at most a signal to no one is sent.
 */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is gone
  }
}
