// `run --watch`: the app runs as secretwrap's supervised child for as long as it lives, and the watch
// keeps its secrets valid: a change swaps the files as one set and tells the app (--on-change), a
// credential that cannot be kept alive stops it (--on-expiry exit: 77/69), and at the end every
// lease and login token is revoked and the secrets dir removed. The exit code is the app's own,
// unless secretwrap stopped it: then 77/69 (expired) or 75 (--on-change exit).
import type { Loaded } from "../config/load.ts";
import { appEnvironment } from "../exec/app-environment.ts";
import { commandPath, warnSupervising } from "../exec/start.ts";
import { removeSecretsDir, type Owner, type SecretsDir } from "../output/files.ts";
import type { Plan } from "../plan.ts";
import { reportError } from "../report.ts";
import { stoppedBy } from "../signals.ts";
import type { CommandContext } from "../commands/context.ts";
import { writeFiles, type FetchedSecrets } from "../commands/steps.ts";
import { DEFAULT_RETRY } from "../retry.ts";
import { AppUnderWatch } from "./app.ts";
import { actionFor } from "./change.ts";
import { SECRETS_CHANGED_EXIT, type WatchOptions } from "./options.ts";
import { Watch } from "./watch.ts";

export interface RunWatchInput {
  readonly command: readonly string[];
  readonly plan: Plan;
  readonly loaded: Loaded;
  readonly fetched: FetchedSecrets;
  /** Target name → its stable path (the `..data` layout keeps it across swaps). */
  readonly paths: ReadonlyMap<string, string>;
  readonly dir: SecretsDir | undefined;
  readonly owner: Owner | undefined;
  readonly appView: Readonly<Record<string, string | undefined>>;
  readonly watch: WatchOptions;
  readonly run: {
    readonly pristine: boolean;
    readonly keepEnv: readonly string[];
    readonly stopTimeoutMs: number;
    readonly timeoutMs: number;
    readonly attemptTimeoutMs: number;
    readonly concurrency: number;
  };
}

export async function runWatched(input: RunWatchInput, ctx: CommandContext): Promise<number> {
  const { plan, fetched, dir, owner, run } = input;
  const { log, router } = ctx;
  // The paths of the file set published last: a new key of an expanded secret adds one.
  let paths = input.paths;
  const envFor = (values: ReadonlyMap<string, Uint8Array>, delivered: Plan): Record<string, string> =>
    appEnvironment({
      plan: delivered,
      envFileValues: input.loaded.envFileValues,
      appView: input.appView,
      values,
      paths,
      consumedEnv: fetched.consumedEnv,
      pristine: run.pristine,
      keepEnv: run.keepEnv,
    });
  const app = new AppUnderWatch({
    argv: input.command,
    stopTimeoutMs: run.stopTimeoutMs,
    router,
    log,
    appCoreDumpFilter: router.appCoreDumpFilter,
    ...(owner === undefined ? {} : { owner }),
    // Called only once the app has started, after `watch` below exists.
    onStop: () => void watch.stop(),
  });
  const watch = new Watch({
    plan,
    mode: "run",
    sessions: fetched.resolution.sessions,
    outcomes: fetched.resolution.outcomes,
    delivered: fetched.values,
    deliveredPlan: fetched.plan,
    options: input.watch,
    timeoutMs: run.timeoutMs,
    concurrency: run.concurrency,
    rules: {
      log,
      redactor: ctx.redactor,
      retry: { ...DEFAULT_RETRY, attemptTimeoutMs: run.attemptTimeoutMs },
    },
    log,
    deliver: async (change, values, delivered) => {
      const { action, warning } = actionFor(input.watch.onChange, change);
      // A restart must be able to start the new app before the old one is stopped or a file swapped:
      // an environment over the kernel's exec limits (or a command gone meanwhile) would otherwise
      // leave no app at all. Thrown here, the watch keeps the whole old set and tries again.
      if (action.kind === "restart") commandPath(input.command, envFor(values, delivered), owner);
      if (change.files) {
        const fileTargets = delivered.targets.filter((t) => t.output.kind === "file");
        paths = writeFiles(ctx, dir, fileTargets, values, {
          owner,
          remove: true,
          asSet: true,
          ...(delivered.templates === undefined ? {} : { templates: delivered.templates }),
        });
      }
      if (warning !== undefined) log.warn(warning);
      // Without a restart the app keeps the env values it started with.
      const keptEnv = delivered.targets
        .filter((t) => t.output.kind === "env" && change.names.includes(t.name))
        .map((t) => t.name);
      switch (action.kind) {
        case "signal":
          log.info(`sending ${action.signal} to the command: ${change.names.join(", ")} changed`);
          app.signal(action.signal);
          return keptEnv;
        case "restart":
          await app.restart(envFor(values, delivered));
          return undefined;
        case "exit":
          log.info(`stopping the command: ${change.names.join(", ")} changed (--on-change exit)`);
          app.stopWith(SECRETS_CHANGED_EXIT);
          return undefined;
        case "nothing":
          return keptEnv;
      }
    },
    settled: () => app.resume(),
    expired: (error) => {
      if (input.watch.onExpiry === "warn") {
        log.warn(`${error.message}; the command keeps running (--on-expiry warn)`);
        return;
      }
      reportError(log, error, "stopping the command (--on-expiry exit)");
      app.stopWith(error.exitCode);
    },
  });
  try {
    const env = envFor(fetched.values, fetched.plan);
    const path = commandPath(input.command, env, owner);
    warnSupervising({ appView: input.appView, consumedEnv: fetched.consumedEnv, log });
    const stopped = await router.lastCheck({ disarm: false });
    if (stopped !== undefined) throw stoppedBy(stopped);
    log.debug("starting the command under --watch", { command: input.command[0] ?? "" });
    app.start(path, env, ctx.stdinIsTerminal());
    await watch.start();
    return await app.result;
  } finally {
    // Also when it never started (a stop signal, a command not found): leases and tokens were obtained.
    await watch.stop();
    await watch.end();
    if (dir !== undefined) removeSecretsDir(dir);
  }
}
