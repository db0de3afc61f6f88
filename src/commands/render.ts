// `secretwrap render --out DIR`: write every declared secret as a file into DIR and exit (the
// init-container pattern). A second render into the same DIR replaces the files it owns.
import type { CommonOptions } from "../cli.ts";
import type { CommandContext } from "./context.ts";
import {
  audit,
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
  const dir = openSecretsDir(ctx, plan.targets, {
    dir: command.out,
    allowDisk: options.allowDisk,
    owner,
    shared: true,
  });
  return await removingDirOnFailure(dir, async () => {
    const fetched = await fetchSecrets(ctx, declared, options, { mode: "render", stopOnFailure: true });
    requireAll(fetched, plan);
    const paths = writeFiles(ctx, dir, plan.targets, fetched.values, { owner, remove: false });
    audit(ctx, fetched.reports);
    ctx.log.info(`wrote ${paths.size} file(s)`, { dir: dir?.path });
    return 0;
  });
}
