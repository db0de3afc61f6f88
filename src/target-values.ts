// What each target receives: outcomes per fetch → bytes per target, #field applied, optional
// absences tolerated, env values checked, and one report per secret for the audit line and `check`.
import { peerValueProblem } from "./config/compat.ts";
import { describeRef } from "./config/ref.ts";
import { asSecretwrapError, SecretwrapError } from "./errors.ts";
import { expandTargets } from "./expand.ts";
import { selectField } from "./field.ts";
import { envValue } from "./output/env.ts";
import type { FileToWrite } from "./output/files.ts";
import { DEFAULT_FILE_MODE, type Plan, type PlannedTemplate, type Target } from "./plan.ts";
import type { Redactor } from "./redact.ts";
import type { SecretReport } from "./report.ts";
import type { FetchOutcome } from "./resolve.ts";
import { renderPlanned } from "./template-values.ts";

export interface TargetValues {
  /** Target name → bytes it receives (only targets that resolved). */
  readonly values: Map<string, Uint8Array>;
  readonly reports: SecretReport[];
  readonly failures: SecretwrapError[];
  /** Targets whose fetch was given up once another secret had failed for good: not failures themselves. */
  readonly notFetched: string[];
  /**
   * The plan as delivered: each expanded declaration (`DB_*`) replaced by one target per key of its
   * secret (expand.ts). Whatever hands values to the app goes by this plan, not the declared one.
   */
  readonly plan: Plan;
}

/** Where values go: run honours each target's output; render writes every value as a file; get prints it. */
export type DeliveryMode = "run" | "render" | "get";

/** Outcomes per fetch → bytes per target, with #field applied and optional absences tolerated. */
export function targetValues(
  plan: Plan,
  outcomes: ReadonlyMap<string, FetchOutcome>,
  mode: DeliveryMode,
  redactor: Redactor,
): TargetValues {
  const values = new Map<string, Uint8Array>();
  const reports: SecretReport[] = [];
  const failures: SecretwrapError[] = [];
  const notFetched: string[] = [];
  const expanded = expandTargets(plan, outcomes, { envTargetsAreFiles: mode === "render" });
  for (const target of expanded.targets) {
    const outcome = outcomes.get(target.key);
    const base = {
      name: target.name,
      provider: target.ref.scheme,
      ref: describeRef(target.ref.raw),
      ...(target.compat === undefined
        ? {}
        : {
            compat: {
              tool: target.compat.tool,
              form: describeRef(target.compat.form),
              source: target.source,
            },
          }),
      target:
        mode === "get"
          ? "stdout"
          : mode === "render" || target.output.kind === "file"
            ? `file:${target.output.kind === "file" ? target.output.fileName : target.name}`
            : "env",
      ...(target.expandedFrom === undefined ? {} : { from: target.expandedFrom.pattern }),
    };
    const fail = (error: SecretwrapError, durationMs?: number): void => {
      const failure = error.about({ secret: target.name, ref: base.ref });
      failures.push(failure);
      reports.push({
        ...base,
        version: undefined,
        durationMs,
        status: "failed",
        code: failure.code,
        error: failure.message,
      });
    };
    if (outcome === undefined) {
      fail(new SecretwrapError("INTERNAL", "no fetch result for this secret"));
      continue;
    }
    const expandError = expanded.errors.get(target);
    if (expandError !== undefined) {
      fail(expandError, outcome.ok ? outcome.durationMs : undefined);
      continue;
    }
    if (expanded.empty.has(target)) {
      reports.push({ ...base, version: undefined, durationMs: undefined, status: "absent" });
      continue;
    }
    if (!outcome.ok) {
      if (outcome.abandoned) {
        notFetched.push(target.name);
      } else if (target.optional && outcome.error.code === "SECRET_NOT_FOUND") {
        if (target.default === undefined) {
          reports.push({ ...base, version: undefined, durationMs: undefined, status: "absent" });
          continue;
        }
        // Only "does not exist" gets here: any other failure still fails the run (no fail-open).
        try {
          const bytes = Buffer.from(target.default);
          if (mode === "run" && target.output.kind === "env") envValue(bytes, target.name);
          values.set(target.name, bytes);
          reports.push({
            ...base,
            version: undefined,
            durationMs: undefined,
            status: "absent",
            defaulted: true,
          });
        } catch (error) {
          fail(asSecretwrapError(error));
        }
      } else {
        fail(outcome.error);
      }
      continue;
    }
    try {
      const bytes = expanded.values.get(target.name) ?? selectField(outcome.fetched, target.ref.field);
      const peerProblem = peerValueProblem(target.compat, target.ref.field, bytes);
      if (peerProblem !== undefined) throw peerProblem;
      // The whole secret is already masked; the selected value may be a shorter string inside it.
      redactor.add(bytes);
      // Only env outputs must be text without NUL; files and stdout take raw bytes.
      if (mode === "run" && target.output.kind === "env") envValue(bytes, target.name);
      values.set(target.name, bytes);
      reports.push({
        ...base,
        version: outcome.fetched.version,
        durationMs: outcome.durationMs,
        status: "ok",
        ...(outcome.fetched.audit === undefined ? {} : { audit: outcome.fetched.audit }),
      });
    } catch (error) {
      fail(asSecretwrapError(error), outcome.durationMs);
    }
  }
  // Config templates: file targets rendered from their references' values (template-values.ts).
  for (const planned of plan.templates ?? []) {
    const result = renderPlanned(planned, outcomes, redactor);
    reports.push(result.report);
    failures.push(...result.failures);
    if (result.notFetched) notFetched.push(planned.name);
    if (result.bytes !== undefined) values.set(planned.name, result.bytes);
  }
  return { values, reports, failures, notFetched, plan: { ...plan, targets: expanded.targets } };
}

export function filesToWrite(
  targets: readonly Target[],
  values: ReadonlyMap<string, Uint8Array>,
  templates: readonly PlannedTemplate[] = [],
): FileToWrite[] {
  const files: FileToWrite[] = [];
  for (const target of targets) {
    const bytes = values.get(target.name);
    if (bytes === undefined) continue; // optional and absent
    const output =
      target.output.kind === "file" ? target.output : { fileName: target.name, mode: DEFAULT_FILE_MODE };
    files.push({ name: target.name, fileName: output.fileName, mode: output.mode, bytes });
  }
  for (const planned of templates) {
    const bytes = values.get(planned.name);
    if (bytes !== undefined)
      files.push({ name: planned.name, fileName: planned.fileName, mode: planned.mode, bytes });
  }
  return files;
}
