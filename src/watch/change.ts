// Pure: which targets a new set of values changes, and whether any of them is an env target (which a
// running process cannot take in without a restart) or a file (which can be swapped under it).
import type { Plan } from "../plan.ts";
import type { OnChange } from "./options.ts";

export interface Change {
  /** The targets whose bytes differ, appeared or disappeared (an optional secret), in plan order. */
  readonly names: readonly string[];
  readonly env: boolean;
  readonly files: boolean;
}

export function changeBetween(
  plan: Plan,
  before: ReadonlyMap<string, Uint8Array>,
  after: ReadonlyMap<string, Uint8Array>,
  /** The plan `before` was delivered by, when it differs: an expanded secret's keys may have changed. */
  beforePlan: Plan = plan,
): Change {
  const names: string[] = [];
  let env = false;
  let files = false;
  const current = new Set(plan.targets.map((t) => t.name));
  const gone = beforePlan.targets.filter((t) => !current.has(t.name));
  for (const target of [...plan.targets, ...gone]) {
    const a = before.get(target.name);
    const b = after.get(target.name);
    const same = a === undefined || b === undefined ? a === b : Buffer.from(a).equals(b);
    if (same) continue;
    names.push(target.name);
    if (target.output.kind === "env") env = true;
    else files = true;
    // A key that appears in or leaves an expanded secret adds or removes its X_FILE variable too.
    if (target.expandedFrom !== undefined && (a === undefined || b === undefined)) env = true;
  }
  // A config template is a file: a change to any secret it uses changes its bytes.
  for (const template of plan.templates ?? []) {
    const a = before.get(template.name);
    const b = after.get(template.name);
    const same = a === undefined || b === undefined ? a === b : Buffer.from(a).equals(b);
    if (same) continue;
    names.push(template.name);
    files = true;
  }
  return { names, env, files };
}

/** What --on-change does about a change: the app's signal, a restart, an exit, or nothing. */
export type Action =
  | { readonly kind: "signal"; readonly signal: NodeJS.Signals }
  | { readonly kind: "restart" | "exit" | "nothing" };

/**
 * The action for a change under an --on-change policy, and a warning when the app keeps an old value:
 * an env target changed but the policy neither restarts nor stops the app.
 */
export function actionFor(onChange: OnChange, change: Change): { action: Action; warning?: string } {
  const kept =
    "an environment variable changed; the app keeps its old value until it restarts (--on-change auto or restart restarts it)";
  switch (onChange.kind) {
    case "auto":
      return change.env ? { action: { kind: "restart" } } : { action: { kind: "signal", signal: "SIGHUP" } };
    case "restart":
    case "exit":
      return { action: { kind: onChange.kind } };
    case "signal":
      return { action: onChange, ...(change.env ? { warning: kept } : {}) };
    case "none":
    case "exec":
      return { action: { kind: "nothing" }, ...(change.env ? { warning: kept } : {}) };
  }
}
