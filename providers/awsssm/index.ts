// ref+awsssm://<path>[?region=…][&version=…][&mode=singleparam][&recursive=true][#field]: AWS Systems
// Manager Parameter Store, read as helmfile/vals reads it (reference.ts). Credentials, endpoints, CA,
// regions and error rules are the AWS providers' shared ones (providers/kit/aws/); the SDK makes one
// attempt per call and src/retry.ts decides on retries. SecureStrings are always decrypted; a
// StringList is delivered as SSM returns it (comma-joined).
//   descriptor.ts  what the core knows without loading this: reference grammar, env prefixes
//   options.ts     the providers.awsssm block (kit/aws/options.ts)
//   reference.ts   the parameter name, which form a reference is (one value, or vals' prefix form), checks
//   errors.ts      SSM's codes and hints for the shared AWS error rules
//   read.ts        GetParameters, 10 names per call; missing names and per-name denials per reference
//   by-path.ts     the prefix form: GetParametersByPath page by page
//   tree.ts        the prefix form's parameters → one JSON document (pure)
//   connect.ts     the shared AWS login, one client per region; fetch, checkVersion and close
import type { Provider } from "../../src/provider-api.ts";
import { connect } from "./connect.ts";
import type { AwsOptions } from "./options.ts";

// The schema too: in the build, the core's options() reaches it through this bundle (scripts/providers.mjs).
export { schema } from "./options.ts";

export const provider: Provider<AwsOptions> = { connect };
