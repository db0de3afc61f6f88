// The config block of an AWS provider (providers.awssecrets, providers.awsssm): the same keys, the same
// strict schema and validation; `provider` names the block in messages.
import { boolean, optional, safeParse, string, strictObject, type infer as Infer } from "zod/mini";
import {
  type OptionSchema,
  optionSchema,
  type ProviderOptionsIssue,
  toIssues,
} from "../../../src/provider-api.ts";
import { checkEndpoint } from "../endpoint.ts";

const Options = strictObject({
  /** Default region for references that name no region of their own. */
  region: optional(string()),
  /** Profile in the shared config/credentials files (like AWS_PROFILE). */
  profile: optional(string()),
  /** The service's endpoint (private endpoints, emulators, tests). */
  endpoint: optional(string()),
  /** STS endpoint for web identity (like AWS_ENDPOINT_URL_STS). */
  stsEndpoint: optional(string()),
  caFile: optional(string()),
  allowHttp: optional(boolean()),
});
export type AwsOptions = Infer<typeof Options>;

export function validateAwsOptions(provider: string, options: unknown): ProviderOptionsIssue[] {
  const result = safeParse(Options, options);
  if (!result.success) return toIssues(result.error.issues);
  const issues: ProviderOptionsIssue[] = [];
  for (const key of ["endpoint", "stsEndpoint"] as const) {
    const value = result.data[key];
    if (value === undefined) continue;
    try {
      checkEndpoint(value, provider, result.data.allowHttp === true);
    } catch (error) {
      issues.push({ path: [key], message: (error as Error).message });
    }
  }
  return issues;
}

export function awsOptionSchema(provider: string): OptionSchema<AwsOptions> {
  return optionSchema<AwsOptions>((block) => validateAwsOptions(provider, block));
}
