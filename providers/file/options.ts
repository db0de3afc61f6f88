// The providers.file block: the file provider takes no options. Checked by hand: zod's start-up cost
// would be paid by every file run.
import { optionSchema, type ProviderOptionsIssue, toIssues } from "../../src/provider-api.ts";

export type FileOptions = Record<string, never>;

export function validateOptions(options: unknown): ProviderOptionsIssue[] {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    return toIssues([{ code: "invalid_type", expected: "object", path: [], message: "" }]);
  }
  const keys = Object.keys(options);
  return keys.length === 0 ? [] : toIssues([{ code: "unrecognized_keys", keys, path: [], message: "" }]);
}

export const schema = optionSchema<FileOptions>(validateOptions);
