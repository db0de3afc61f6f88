// The config file's shape (zod/mini: a few KB instead of zod's whole bundle). Strict everywhere: a
// typo such as `optinal: true` is an error with its path, never silently ignored.
import type { ProviderOptionsIssue } from "../provider.ts";
import { toIssues } from "./issues.ts";
import {
  array,
  boolean,
  custom,
  literal,
  optional,
  record,
  safeParse,
  strictObject,
  string,
  unknown,
  type infer as Infer,
} from "zod/mini";

const SecretObject = strictObject({
  ref: string(),
  file: optional(string()),
  mode: optional(string()),
  optional: optional(boolean()),
});

// A union would report "Invalid input" for a typo inside the object form; checking the two forms
// separately keeps the precise path and reason.
const SecretEntry = custom<string | Infer<typeof SecretObject>>(
  (value) => typeof value === "string" || safeParse(SecretObject, value).success,
);

export const ConfigFile = strictObject({
  version: literal(1),
  providers: optional(
    strictObject({
      vault: optional(unknown()),
      awssecrets: optional(unknown()),
      gcpsecrets: optional(unknown()),
      azurekeyvault: optional(unknown()),
      file: optional(unknown()),
    }),
  ),
  secrets: optional(record(string(), SecretEntry)),
  allowNames: optional(array(string())),
});

export type ConfigFile = Infer<typeof ConfigFile>;

export function validateConfig(
  data: unknown,
): { success: true; data: ConfigFile } | { success: false; issues: ProviderOptionsIssue[] } {
  const result = safeParse(ConfigFile, data);
  if (result.success) return { success: true, data: result.data };
  const issues: ProviderOptionsIssue[] = [];
  for (const [issue] of result.error.issues.map((i) => toIssues([i]))) {
    if (issue === undefined) continue;
    const [top, name] = issue.path;
    const entry: unknown =
      top === "secrets" && name !== undefined
        ? (data as { secrets: Record<string, unknown> }).secrets[name]
        : undefined;
    const inner = typeof entry === "object" && entry !== null ? safeParse(SecretObject, entry) : undefined;
    if (inner !== undefined && !inner.success) {
      for (const i of toIssues(inner.error.issues))
        issues.push({ path: [...issue.path, ...i.path], message: i.message });
    } else if (top === "secrets" && name !== undefined && issue.path.length === 2) {
      issues.push({ path: issue.path, message: "expected a reference string or an object with ref" });
    } else {
      issues.push(issue);
    }
  }
  return { success: false, issues };
}
