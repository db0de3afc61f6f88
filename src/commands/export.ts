// `secretwrap export [--format dotenv|json|shell]`: resolve everything declared and print the env
// targets in a format another tool reads back byte for byte (CI jobs, docker compose). Fail closed as
// run does: nothing is printed unless every secret resolved. It writes values to stdout, so it
// refuses a terminal (a screen, a recording, a scrollback) unless --force.
import type { CommonOptions } from "../cli.ts";
import { SecretwrapError } from "../errors.ts";
import { envValue } from "../output/env.ts";
import { formatExport, type ExportFormat } from "../output/export-format.ts";
import type { CommandContext } from "./context.ts";
import { audit, declaring, fetchSecrets, loadPlan, requireAll } from "./steps.ts";

export async function exportSecrets(
  command: { readonly options: CommonOptions; readonly format: ExportFormat; readonly force: boolean },
  ctx: CommandContext,
): Promise<number> {
  const { options } = command;
  if (!command.force && ctx.stdoutIsTerminal()) {
    throw new SecretwrapError("USAGE", "export writes secret values to stdout, which is a terminal", {
      hint: "redirect it (secretwrap export > .env) or pipe it, or pass --force to print them here",
    });
  }
  const declared = await loadPlan(ctx, {
    command: "export",
    env: ctx.appView,
    ...declaring(options),
    allowEmpty: false,
  });
  const { plan } = declared;
  // A template is a file (its `env` would name a path that exists only under run): left out too.
  const skipped = [
    ...plan.targets.filter((t) => t.output.kind === "file").map((t) => t.name),
    ...(plan.templates ?? []).map((t) => t.name),
  ];
  if (skipped.length > 0)
    ctx.log.warn(`not exported: ${skipped.join(", ")} (file targets; export prints environment variables)`);
  const fetched = await fetchSecrets(ctx, declared, options, { mode: "run", stopOnFailure: true });
  requireAll(fetched);
  const entries: [string, string][] = [];
  // The plan as delivered: an expanded declaration (DB_*) is one target per key of its secret.
  for (const target of fetched.plan.targets) {
    const bytes = fetched.values.get(target.name);
    if (target.output.kind === "env" && bytes !== undefined)
      entries.push([target.name, envValue(bytes, target.name)]);
  }
  // Formatted in full before a byte is written: a value the format cannot carry prints nothing.
  const text = formatExport(entries, command.format);
  ctx.writeOut(text);
  audit(ctx, fetched.reports);
  return 0;
}
