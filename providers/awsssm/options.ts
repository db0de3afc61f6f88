// The providers.awsssm block: the keys every AWS provider takes (providers/kit/aws/options.ts).
import type { ProviderOptionsIssue } from "../../src/provider-api.ts";
import { awsOptionSchema, validateAwsOptions } from "../kit/aws/options.ts";

export type { AwsOptions } from "../kit/aws/options.ts";

export const NAME = "awsssm";

export function validateOptions(options: unknown): ProviderOptionsIssue[] {
  return validateAwsOptions(NAME, options);
}

export const schema = awsOptionSchema(NAME);
