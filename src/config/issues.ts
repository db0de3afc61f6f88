// zod issues → our issue list. zod never sees a secret value (it parses config only), and
// issue messages are built from paths and expectations, not from input.
import type { ProviderOptionsIssue } from "../provider.ts";

interface ZodIssueLike {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

export function toIssues(issues: readonly ZodIssueLike[]): ProviderOptionsIssue[] {
  return issues.map((issue) => ({
    path: issue.path.map((p) => (typeof p === "number" ? p : String(p))),
    message: issue.message,
  }));
}

export function formatPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}
