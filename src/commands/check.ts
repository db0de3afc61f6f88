// `secretwrap check`: resolve everything and write nothing; one line (or JSON) per secret, never a
// value. It runs run's local checks too, reports them after every secret's answer, and exits with
// the code run would fail with (the secrets dir first, as run checks it first).
import { join } from "node:path";
import type { CommonOptions } from "../cli.ts";
import type { Declared } from "../config/declare.ts";
import { asSecretwrapError } from "../errors.ts";
import { appEnvironment } from "../exec/app-environment.ts";
import { checkEnvironmentLimits } from "../exec/exec-limits.ts";
import { DEFAULT_SECRETS_PARENT, DEFAULT_SECRETS_PREFIX, validateSecretsDir } from "../output/files.ts";
import { printCheck, type CheckProblem } from "../report.ts";
import type { CommandContext } from "./context.ts";
import { declaring, fetchSecrets, loadPlan, requireAll, type FetchedSecrets } from "./steps.ts";

export async function check(
  command: { readonly options: CommonOptions; readonly json: boolean; readonly allowEmpty: boolean },
  ctx: CommandContext,
): Promise<number> {
  const { options } = command;
  const declared = await loadPlan(ctx, {
    command: "check",
    env: ctx.appView,
    ...declaring(options),
    allowEmpty: command.allowEmpty,
  });
  const problems: CheckProblem[] = [];
  const { plan } = declared;
  if (plan.targets.some((t) => t.output.kind === "file") || (plan.templates ?? []).length > 0) {
    try {
      validateSecretsDir({
        ...(options.secretsDir === undefined ? {} : { dir: options.secretsDir }),
        allowDisk: options.allowDisk,
      });
    } catch (error) {
      problems.push({ check: "secrets-dir", error: asSecretwrapError(error) });
    }
  }
  // Every secret gets its own answer: one failure does not cut the others short.
  const fetched = await fetchSecrets(ctx, declared, options, { mode: "run", stopOnFailure: false });
  if (fetched.failures.length === 0 && fetched.notFetched.length === 0) {
    const problem = environmentProblem(options, declared, fetched, ctx.appView);
    if (problem !== undefined) problems.push(problem);
  }
  printCheck(ctx.writeOut, ctx.log, fetched.reports, command.json, ctx.redactor, problems);
  if (problems[0]?.check === "secrets-dir") throw problems[0].error;
  requireAll(fetched);
  if (problems[0] !== undefined) throw problems[0].error;
  return 0;
}

/**
 * `check` knows the app's environment but not its command: the environment run would build (a file
 * output's variable holds its path in --secrets-dir or a fresh dir's name) must fit the kernel's exec
 * limits by itself.
 */
function environmentProblem(
  options: CommonOptions,
  { loaded }: Declared,
  fetched: FetchedSecrets,
  appView: Readonly<Record<string, string | undefined>>,
): CheckProblem | undefined {
  const dirPath = options.secretsDir ?? join(DEFAULT_SECRETS_PARENT, `${DEFAULT_SECRETS_PREFIX}XXXXXX`);
  const { plan } = fetched;
  const paths = new Map<string, string>();
  for (const target of plan.targets) {
    if (target.output.kind === "file" && fetched.values.has(target.name))
      paths.set(target.name, join(dirPath, target.output.fileName));
  }
  for (const template of plan.templates ?? [])
    if (fetched.values.has(template.name)) paths.set(template.name, join(dirPath, template.fileName));
  try {
    checkEnvironmentLimits(
      appEnvironment({
        plan,
        envFileValues: loaded.envFileValues,
        appView,
        values: fetched.values,
        paths,
        consumedEnv: fetched.consumedEnv,
        pristine: false,
        keepEnv: [],
      }),
    );
    return undefined;
  } catch (error) {
    return { check: "environment", error: asSecretwrapError(error) };
  }
}
