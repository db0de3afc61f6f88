// The environment the app starts with, from what the run resolved: `run` execs with it, `check`
// measures it against the kernel's limits (exec-limits.ts). Pure; the rule itself is output/env.ts.
import { buildChildEnv, envValue } from "../output/env.ts";
import type { Plan } from "../plan.ts";

export interface AppEnvironmentInput {
  readonly plan: Plan;
  /** Plain values of the env-files (config/load.ts Loaded.envFileValues). */
  readonly envFileValues: Readonly<Record<string, string>>;
  /** The environment secretwrap started with, as the app sees it (app-only variables restored). */
  readonly appView: Readonly<Record<string, string | undefined>>;
  /** Target name → its bytes (env outputs). */
  readonly values: ReadonlyMap<string, Uint8Array>;
  /** Target name → its file's path (file outputs). */
  readonly paths: ReadonlyMap<string, string>;
  readonly consumedEnv: readonly string[];
  /** run's --pristine and --keep-env. */
  readonly pristine: boolean;
  readonly keepEnv: readonly string[];
}

export function appEnvironment(input: AppEnvironmentInput): Record<string, string> {
  const assigned = new Map<string, string>();
  for (const target of input.plan.targets) {
    const path = input.paths.get(target.name);
    const bytes = input.values.get(target.name);
    if (target.output.kind === "file" && path !== undefined) assigned.set(target.name, path);
    else if (target.output.kind === "env" && bytes !== undefined)
      assigned.set(target.name, envValue(bytes, target.name));
  }
  // A template's `env` holds its file's path (a path, not a secret value).
  for (const template of input.plan.templates ?? []) {
    const path = input.paths.get(template.name);
    if (template.env !== undefined && path !== undefined) assigned.set(template.env, path);
  }
  return buildChildEnv({
    inherited: input.appView,
    pristine: input.pristine,
    keepEnv: input.keepEnv,
    envFileValues: input.envFileValues,
    declaredNames: new Set(input.plan.targets.map((t) => t.name)),
    assigned,
    consumedEnv: input.consumedEnv,
  });
}
