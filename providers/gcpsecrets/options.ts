// The providers.gcpsecrets config block (strict schema) and the names every other gcpsecrets/ file shares.
import { boolean, optional, safeParse, string, strictObject, type infer as Infer } from "zod/mini";
import {
  optionSchema,
  type ProviderContext,
  type ProviderOptionsIssue,
  toIssues,
} from "../../src/provider-api.ts";

export const NAME = "gcpsecrets";

const Options = strictObject({
  /** Base URL for every request (private endpoint, emulator, tests); default: Google's global or regional host. */
  endpoint: optional(string()),
  caFile: optional(string()),
  allowHttp: optional(boolean()),
  /** A credentials JSON file, like GOOGLE_APPLICATION_CREDENTIALS (which it overrides). */
  credentialsFile: optional(string()),
});
export type GcpOptions = Infer<typeof Options>;
export type Env = ProviderContext["env"];

export function validateOptions(options: unknown): ProviderOptionsIssue[] {
  const result = safeParse(Options, options);
  return result.success ? [] : toIssues(result.error.issues);
}

export const schema = optionSchema<GcpOptions>(validateOptions);
