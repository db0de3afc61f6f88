// `secretwrap run -- CMD`: resolve everything, write the file outputs, build the app's environment
// and start CMD; nothing is started unless every declared secret resolved.
import type { RunOptions } from "../cli.ts";
import { appEnvironment } from "../exec/app-environment.ts";
import { startCommand } from "../exec/start.ts";
import { withAccountHome } from "../output/env.ts";
import type { CommandContext } from "./context.ts";
import { refuseUnwatchable } from "../watch/unwatchable.ts";
import {
  audit,
  closingSessionsOnFailure,
  declaring,
  fetchSecrets,
  loadPlan,
  openSecretsDir,
  ownerFor,
  removingDirOnFailure,
  requireAll,
  writeFiles,
} from "./steps.ts";

export async function run(
  command: { readonly options: RunOptions; readonly command: readonly string[] },
  ctx: CommandContext,
): Promise<number> {
  const { options } = command;
  const owner = ownerFor(options.user);
  const declared = await loadPlan(ctx, {
    command: "run",
    env: ctx.appView,
    ...declaring(options),
    inheritance: { pristine: options.pristine, keepEnv: options.keepEnv },
    allowEmpty: false,
  });
  const { plan, loaded } = declared;
  if (options.watch !== undefined) refuseUnwatchable(plan);
  const templates = plan.templates ?? [];
  const dir = openSecretsDir(ctx, [...plan.targets.filter((t) => t.output.kind === "file"), ...templates], {
    dir: options.secretsDir,
    allowDisk: options.allowDisk,
    owner,
    shared: false,
  });
  const { watch } = options;
  return await removingDirOnFailure(dir, async () => {
    const fetched = await fetchSecrets(ctx, declared, options, {
      mode: "run",
      stopOnFailure: true,
      keepSessions: watch !== undefined,
    });
    // The plan as delivered: an expanded declaration (DB_*) is one target per key of its secret.
    const delivered = fetched.plan;
    const fileTargets = delivered.targets.filter((t) => t.output.kind === "file");
    const appView =
      owner === undefined ? ctx.appView : withAccountHome(ctx.appView, owner.home, options.keepEnv);
    if (watch !== undefined) {
      // From here until the watch takes them over, a failure must still close the sessions it kept.
      const paths = await closingSessionsOnFailure(fetched, ctx, () => {
        requireAll(fetched);
        const asSet = { owner, remove: true, asSet: true, templates };
        const published = writeFiles(ctx, dir, fileTargets, fetched.values, asSet);
        audit(ctx, fetched.reports);
        return Promise.resolve(published);
      });
      // Loaded only for --watch: it brings child_process, which a plain run never needs before exec.
      const { runWatched } = await import("../watch/run-watch.ts");
      return await runWatched(
        { command: command.command, plan, loaded, fetched, paths, dir, owner, appView, watch, run: options },
        ctx,
      );
    }
    requireAll(fetched);
    const paths = writeFiles(ctx, dir, fileTargets, fetched.values, { owner, remove: true, templates });
    audit(ctx, fetched.reports);
    return await startCommand({
      command: command.command,
      env: appEnvironment({
        plan: delivered,
        envFileValues: loaded.envFileValues,
        appView,
        values: fetched.values,
        paths,
        consumedEnv: fetched.consumedEnv,
        pristine: options.pristine,
        keepEnv: options.keepEnv,
      }),
      appView,
      consumedEnv: fetched.consumedEnv,
      secretNames: delivered.targets.filter((t) => t.output.kind === "env").map((t) => t.name),
      supervise: options.supervise,
      stopTimeoutMs: options.stopTimeoutMs,
      logLevel: options.logLevel,
      logFormat: options.logFormat,
      dir,
      owner,
      router: ctx.router,
      terminal: ctx.stdinIsTerminal,
      log: ctx.log,
    });
  });
}
