// zod issues → our issue list. zod/mini ships no messages (its strings are all "Invalid input"), so
// the few kinds a config file can have are phrased here, from paths and expectations only: never
// from the input, which may hold a secret.
import type { ProviderOptionsIssue } from "../provider-api.ts";

export interface ZodIssueLike {
  readonly code?: string;
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly expected?: unknown;
  readonly keys?: readonly string[];
  readonly values?: readonly unknown[];
  readonly origin?: string;
  readonly minimum?: unknown;
  readonly maximum?: unknown;
}

export function describeIssue(issue: ZodIssueLike): string {
  switch (issue.code) {
    case "unrecognized_keys":
      return `unknown key${(issue.keys ?? []).length > 1 ? "s" : ""} ${(issue.keys ?? []).map((k) => JSON.stringify(k)).join(", ")}`;
    case "invalid_type":
      return `expected ${String(issue.expected)}`;
    case "invalid_value":
      return `expected ${(issue.values ?? []).map((v) => JSON.stringify(v)).join(" or ")}`;
    case "too_small":
      return `must be at least ${String(issue.minimum)}${issue.origin === "string" ? " characters" : ""}`;
    case "too_big":
      return `must be at most ${String(issue.maximum)}${issue.origin === "string" ? " characters" : ""}`;
    case "invalid_format":
      return "has the wrong format";
    default:
      return issue.message === "Invalid input" ? "is not valid here" : issue.message;
  }
}

export function toIssues(issues: readonly ZodIssueLike[]): ProviderOptionsIssue[] {
  return issues.map((issue) => ({
    path: issue.path.map((p) => (typeof p === "number" ? p : String(p))),
    message: describeIssue(issue),
  }));
}

export function formatPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}
