// `secretwrap get REF`: print one secret's value to stdout. Only its argument is resolved: the
// environment and env-files declare nothing for it.
import type { CommonOptions } from "../cli.ts";
import type { CommandContext } from "./context.ts";
import { audit, declaring, fetchSecrets, loadPlan, requireAll } from "./steps.ts";

export async function get(
  command: { readonly options: CommonOptions; readonly ref: string },
  ctx: CommandContext,
): Promise<number> {
  const { options } = command;
  const declared = await loadPlan(ctx, {
    command: "get",
    env: {},
    ...declaring(options),
    envFiles: [],
    ref: command.ref,
    allowEmpty: false,
  });
  const fetched = await fetchSecrets(ctx, declared, options, { mode: "get", stopOnFailure: true });
  requireAll(fetched);
  const value = fetched.values.get(declared.plan.targets[0]?.name ?? "");
  if (value !== undefined) ctx.writeOut(value);
  audit(ctx, fetched.reports);
  return 0;
}
