// What the core knows of the awsssm provider without loading it (src/provider-api.ts).
import type { ProviderDescriptor } from "../../src/provider-api.ts";
import type { AwsOptions } from "./options.ts";
import { checkReference, PARAMS, readsPrefix } from "./reference.ts";

export const descriptor: ProviderDescriptor<AwsOptions> = {
  scheme: "awsssm",
  summary: "AWS Systems Manager Parameter Store",
  example: "ref+awsssm://myapp/db/password",
  ownBundle: true,
  capabilities: { checkVersion: true },
  options: async () => (await import("./options.ts")).schema,
  load: async () => (await import("./index.ts")).provider,
  envPrefixes: ["AWS_"],
  appOnlyVariables: [],
  locator: {
    params: PARAMS,
    check: checkReference,
    read: (params, field) => (readsPrefix(params, field) ? "parameters under the path" : undefined),
  },
};
