// What the core knows of the awssecrets provider without loading it (src/provider-api.ts).
import type { ProviderDescriptor } from "../../src/provider-api.ts";
import { parseSecretArn } from "./arn.ts";
import type { AwsOptions } from "./options.ts";

const NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-[0-9]+$/;
const VERSION_ID = /^[A-Za-z0-9-]{32,64}$/;
const STAGE = /^[A-Za-z0-9_-]{1,256}$/;

export const descriptor: ProviderDescriptor<AwsOptions> = {
  scheme: "awssecrets",
  summary: "AWS Secrets Manager",
  example: "ref+awssecrets://prod/myapp#api_key",
  ownBundle: true,
  capabilities: { checkVersion: true },
  options: async () => (await import("./options.ts")).schema,
  load: async () => (await import("./index.ts")).provider,
  envPrefixes: ["AWS_"],
  appOnlyVariables: [],
  locator: {
    params: ["version_id", "version_stage", "region"],
    check(locator, params) {
      if (locator.startsWith("arn:")) {
        const arn = parseSecretArn(locator);
        if (arn === undefined)
          return "not a Secrets Manager ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)";
        const region = params["region"];
        if (region !== undefined && region !== arn.region) return "region does not match the ARN's region";
      } else if (!NAME.test(locator)) {
        return "a secret name is 1-512 of A-Z a-z 0-9 / _ + = . @ -";
      }
      if (params["region"] !== undefined && !REGION.test(params["region"]))
        return "region is not an AWS region";
      if (params["version_id"] !== undefined && !VERSION_ID.test(params["version_id"])) {
        return "version_id is not a Secrets Manager version id";
      }
      if (params["version_stage"] !== undefined && !STAGE.test(params["version_stage"])) {
        return "version_stage is not a valid staging label";
      }
      return undefined;
    },
  },
};
