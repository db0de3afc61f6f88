// The providers.awssecrets block (strict schema) and its validation.
import { boolean, optional, safeParse, string, strictObject, type infer as Infer } from "zod/mini";
import { optionSchema, type ProviderOptionsIssue, toIssues } from "../../src/provider-api.ts";
import { checkEndpoint } from "../kit/endpoint.ts";

export const NAME = "awssecrets";

const Options = strictObject({
  /** Default region for references that name neither `?region` nor an ARN. */
  region: optional(string()),
  /** Profile in the shared config/credentials files (like AWS_PROFILE). */
  profile: optional(string()),
  /** Secrets Manager endpoint (private endpoints, emulators, tests). */
  endpoint: optional(string()),
  /** STS endpoint for web identity (like AWS_ENDPOINT_URL_STS). */
  stsEndpoint: optional(string()),
  caFile: optional(string()),
  allowHttp: optional(boolean()),
});
export type AwsOptions = Infer<typeof Options>;

export function validateOptions(options: unknown): ProviderOptionsIssue[] {
  const result = safeParse(Options, options);
  if (!result.success) return toIssues(result.error.issues);
  const issues: ProviderOptionsIssue[] = [];
  for (const key of ["endpoint", "stsEndpoint"] as const) {
    const value = result.data[key];
    if (value === undefined) continue;
    try {
      checkEndpoint(value, NAME, result.data.allowHttp === true);
    } catch (error) {
      issues.push({ path: [key], message: (error as Error).message });
    }
  }
  return issues;
}

export const schema = optionSchema<AwsOptions>(validateOptions);
