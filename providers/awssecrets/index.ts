// ref+awssecrets://<name|ARN>[?version_id=…|version_stage=…][&region=…][#field]: AWS Secrets Manager.
// Credentials come from the AWS SDK's own providers, picked in the SDK's default-chain order from the
// environment secretwrap started with (static keys, profile, web identity, container endpoint, IMDS).
// Secrets without a version that are requested together in one region are fetched with
// BatchGetSecretValue (20 per call); BatchGetSecretValue reports per-secret failures inside a 200, so
// each one is mapped on its own. The SDK makes one attempt per call: src/retry.ts decides on retries.
//
// The pieces, one idea each, live in awssecrets/; what every AWS provider shares (the block's keys,
// endpoints and the HTTPS agent, the credential chain and login, the error rules, regions) is in
// providers/kit/aws/, and what every provider shares (agents, extra CA, endpoint check, credential
// files, ctx.env reading, HTTP status and network classification, Retry-After, clock skew, the client
// cache, process.env overrides) in providers/kit/:
//   descriptor.ts         what the core knows without loading this: reference grammar, env prefixes
//   options.ts            the providers.awssecrets block (kit/aws/options.ts)
//   arn.ts                a Secrets Manager ARN, parsed once for the grammar and for a secret's region
//   errors.ts             Secrets Manager's codes and hints for the shared AWS error rules
//   region.ts             a secret's region: ?region, its ARN, the default region
//   read.ts               one GetSecretValue call, and a secret version → bytes
//   batcher.ts            BatchGetSecretValue for version-less secrets requested together
//   describe.ts           checkVersion for --watch: DescribeSecret's VersionIdsToStages, no value read;
//                         a denied DescribeSecret turns the check off for the session
//   connect.ts            the shared AWS login, then one client and batcher per region; fetch,
//                         checkVersion and close
import type { Provider } from "../../src/provider-api.ts";
import { connect } from "./connect.ts";
import type { AwsOptions } from "./options.ts";

// The schema too: in the build, the core's options() reaches it through this bundle (scripts/providers.mjs).
export { schema } from "./options.ts";

export const provider: Provider<AwsOptions> = { connect };
