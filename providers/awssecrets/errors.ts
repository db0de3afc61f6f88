// Secrets Manager's part of the AWS error mapping (providers/kit/aws/errors.ts has the rules every AWS
// provider shares): its "not found" and KMS codes and its hints.
import type { SecretwrapError } from "../../src/provider-api.ts";
import { type AwsService, mapAwsError } from "../kit/aws/errors.ts";

export type { SdkErrorShape } from "../kit/aws/errors.ts";

export const SECRETS_MANAGER: AwsService = {
  name: "AWS Secrets Manager",
  notFound: new Set(["ResourceNotFoundException"]),
  notFoundWhat: "secret or version",
  kmsDenied: new Set(["DecryptionFailure", "KMSAccessDeniedException"]),
  deniedHint:
    "allow secretsmanager:GetSecretValue (and BatchGetSecretValue) on this secret for this identity (see docs/providers/awssecrets.md#iam-policy)",
  kmsHint:
    "allow kms:Decrypt on the secret's KMS key for this identity (see docs/providers/awssecrets.md#iam-policy)",
  credentialsHint:
    "check which AWS identity secretwrap found (see docs/providers/awssecrets.md#credentials) and the machine clock",
  refusedHint:
    "check the reference: version_id must exist, and a secret scheduled for deletion cannot be read until restored",
};

/** Maps a failure of a Secrets Manager or STS call. `what` names the secret (or "login"). */
export function mapSdkError(
  error: unknown,
  what: string,
  service: string,
  endpoint?: string,
): SecretwrapError {
  return mapAwsError(error, what, { ...SECRETS_MANAGER, name: service }, endpoint);
}
