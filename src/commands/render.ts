// `secretwrap render --out DIR`: write every declared secret as a file into DIR and exit (the
// init-container pattern). A second render into the same DIR replaces the files it owns.
import type { CommonOptions } from "../cli.ts";
import type { WatchOptions } from "../watch/options.ts";
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

export async function render(
  command: {
    readonly options: CommonOptions;
    readonly out: string;
    readonly user?: string;
    readonly allowEmpty: boolean;
    readonly watch?: WatchOptions;
  },
  ctx: CommandContext,
): Promise<number> {
  const { options } = command;
  const owner = ownerFor(command.user);
  const declared = await loadPlan(ctx, {
    command: "render",
    env: ctx.appView,
    ...declaring(options),
    allowEmpty: command.allowEmpty,
  });
  const { plan } = declared;
  if (command.watch !== undefined) refuseUnwatchable(plan);
  const templates = plan.templates ?? [];
  const dir = openSecretsDir(ctx, [...plan.targets, ...templates], {
    dir: command.out,
    allowDisk: options.allowDisk,
    owner,
    shared: true,
  });
  const { watch } = command;
  return await removingDirOnFailure(dir, async () => {
    const fetched = await fetchSecrets(ctx, declared, options, {
      mode: "render",
      stopOnFailure: true,
      keepSessions: watch !== undefined,
    });
    const paths = await closingSessionsOnFailure(fetched, ctx, () => {
      requireAll(fetched);
      const asSet = watch !== undefined;
      // The plan as delivered: an expanded declaration (DB_*) is one file per key of its secret.
      const written = writeFiles(ctx, dir, fetched.plan.targets, fetched.values, {
        owner,
        remove: false,
        asSet,
        templates,
      });
      audit(ctx, fetched.reports);
      return Promise.resolve(written);
    });
    ctx.log.info(`wrote ${paths.size} file(s)`, { dir: dir?.path });
    if (watch === undefined) return 0;
    // Loaded only for --watch: it brings child_process, which a one-shot render never needs.
    const { renderWatched } = await import("../watch/render-watch.ts");
    return await renderWatched({ plan, fetched, dir, owner, watch, ...options }, ctx);
  });
}
