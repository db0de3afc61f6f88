// Fetch outcomes → each config template's rendered bytes and one report per template. A template's
// references are required: one that failed, was not found or lacks its #field fails the template (and
// so the run), as does a value one of its filters refuses. The selected values and their filtered forms
// are told to the redactor before anything can print.
import { describeRef, type Ref } from "./config/ref.ts";
import { asSecretwrapError, SecretwrapError } from "./errors.ts";
import { selectField } from "./field.ts";
import type { PlannedTemplate } from "./plan.ts";
import type { Redactor } from "./redact.ts";
import type { SecretReport } from "./report.ts";
import type { FetchOutcome } from "./resolve.ts";
import { renderTemplate } from "./template/render.ts";

export interface TemplateResult {
  readonly bytes?: Uint8Array;
  readonly report: SecretReport;
  readonly failures: readonly SecretwrapError[];
  /** Some reference was given up after another secret failed for good: not a failure itself. */
  readonly notFetched: boolean;
}

export function renderPlanned(
  planned: PlannedTemplate,
  outcomes: ReadonlyMap<string, FetchOutcome>,
  redactor: Redactor,
): TemplateResult {
  const refs = planned.refs.map(({ ref }) => describeRef(ref.raw));
  const base = {
    name: planned.name,
    provider: [...new Set(planned.refs.map(({ ref }) => ref.scheme))].join(","),
    ref: refs.join(" "),
    refs,
    target: `file:${planned.fileName}`,
    version: undefined,
  };
  const failures: SecretwrapError[] = [];
  const selected = new Map<string, Uint8Array>();
  let notFetched = false;
  let durationMs: number | undefined;
  for (const { ref, key } of planned.refs) {
    const outcome = outcomes.get(key);
    const about = { secret: planned.name, ref: describeRef(ref.raw) };
    if (outcome === undefined) {
      failures.push(new SecretwrapError("INTERNAL", "no fetch result for this secret").about(about));
      continue;
    }
    if (!outcome.ok) {
      if (outcome.abandoned) notFetched = true;
      else failures.push(outcome.error.about(about));
      continue;
    }
    durationMs = Math.max(durationMs ?? 0, outcome.durationMs);
    try {
      const bytes = selectField(outcome.fetched, ref.field);
      redactor.add(bytes);
      selected.set(ref.raw, bytes);
    } catch (error) {
      failures.push(asSecretwrapError(error).about(about));
    }
  }
  const failed = (): TemplateResult => {
    const first = failures[0];
    return {
      report: {
        ...base,
        durationMs,
        status: "failed",
        ...(first === undefined ? {} : { code: first.code, error: first.message }),
      },
      failures,
      notFetched,
    };
  };
  if (failures.length > 0 || notFetched) return failed();
  try {
    const bytes = renderTemplate({
      template: planned.template,
      name: planned.fileName,
      valueOf: (ref: Ref) => selected.get(ref.raw) as Uint8Array,
      inserted: (value) => redactor.add(value),
    });
    return { bytes, report: { ...base, durationMs, status: "ok" }, failures, notFetched };
  } catch (error) {
    failures.push(asSecretwrapError(error).about({ secret: planned.name }));
    return failed();
  }
}
