// Load → plan, with every problem of every pass (file syntax, schema, references, targets) in ONE
// error: fixing a config never reveals a new batch of problems that were there all along.
import { SecretsFailedError, SecretwrapError } from "../errors.ts";
import { collectPlan, planForGet, targetProblems, type Plan } from "../plan.ts";
import { printable, SHOWN_CHARS } from "../printable.ts";
import { loadDeclarations, type Loaded, type LoadInput } from "./load.ts";
import { readPeerForm } from "./compat.ts";
import { isRef, parseRef } from "./ref.ts";

export type DeclaringCommand = "run" | "check" | "get" | "render" | "export";

export interface DeclareInput extends LoadInput {
  readonly command: DeclaringCommand;
  /** `get`'s argument. */
  readonly ref?: string;
  readonly allowNames: readonly string[];
  /** check/render: nothing declared is a success only when asked for. */
  readonly allowEmpty: boolean;
}

export interface Declared {
  readonly loaded: Loaded;
  readonly plan: Plan;
}

const DECLARE_SECRETS_HINT =
  "declare secrets as ref+… variables, in an --env-file or in the config file (secretwrap.yaml or --config)";
export const NOTHING_DECLARED_HINT = `${DECLARE_SECRETS_HINT}; pass --allow-empty (SECRETWRAP_ALLOW_EMPTY=true) if an empty set is intended`;

export async function declare(input: DeclareInput): Promise<Declared> {
  const loaded = await loadDeclarations(input);
  const problems: SecretwrapError[] = [...loaded.problems];
  let plan: Plan = { fetches: new Map(), targets: [], schemes: [] };
  if (input.command === "get") {
    const raw = input.ref ?? "";
    // --compat applies to get's argument too: `get sm://p/s` as berglas reads it.
    const peer = isRef(raw) ? undefined : readPeerForm("the argument", raw, loaded.compat, "argument");
    try {
      if (peer !== undefined && "error" in peer) throw peer.error;
      plan = planForGet(parseRef(peer?.ref ?? raw));
    } catch (error) {
      if (!(error instanceof SecretwrapError)) throw error;
      problems.push(error);
    }
  } else {
    const allowed = new Set([...input.allowNames, ...loaded.allowNames]);
    const collected = collectPlan(loaded.declarations, allowed, {
      envTargetsAreFiles: input.command === "render",
      templates: loaded.templates,
    });
    plan = collected.plan;
    problems.push(...collected.problems);
    for (const shape of loaded.refless) {
      for (const message of targetProblems(shape, allowed)) {
        problems.push(
          new SecretwrapError("TARGET_INVALID", `${message} (declared in ${shape.source})`, {
            subject: { secret: printable(shape.name, SHOWN_CHARS.name) },
          }),
        );
      }
    }
  }
  if (problems.length > 0) {
    throw new SecretsFailedError(problems, `${problems.length} problem(s) in the declarations`);
  }
  // A CI smoke test (`check`), an init container (`render`) or a CI job's `export` that declares
  // nothing has forgotten the injection: that is a failure, not a success. `run` with nothing declared
  // is a plain exec wrapper, which is a legitimate use.
  const empty =
    plan.targets.length === 0 &&
    (plan.templates ?? []).length === 0 &&
    input.command !== "run" &&
    input.command !== "get";
  if (empty && !input.allowEmpty) {
    const what = { check: "check", render: "write", export: "print" }[input.command];
    throw new SecretwrapError(
      "CONFIG_INVALID",
      `nothing is declared: ${input.command} has no secret to ${what}`,
      {
        // export has no --allow-empty: printing nothing is never what a job wants.
        hint: input.command === "export" ? DECLARE_SECRETS_HINT : NOTHING_DECLARED_HINT,
        // check's usual verdict ("`run` would not start the command") is wrong here: run with nothing
        // declared is a plain exec wrapper.
        ...(input.command === "check"
          ? { consequence: "`run` would start the command with no secrets" }
          : {}),
      },
    );
  }
  return { loaded, plan };
}
