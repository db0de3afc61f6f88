// SSM's part of the AWS error mapping (providers/kit/aws/errors.ts has the rules every AWS provider
// shares): its "not found" and KMS codes and its hints.
import { type AwsService } from "../kit/aws/errors.ts";

export const SSM: AwsService = {
  name: "AWS SSM Parameter Store",
  notFound: new Set(["ParameterNotFound", "ParameterVersionNotFound"]),
  notFoundWhat: "parameter or version",
  // A SecureString whose KMS key is disabled, deleted or not one the identity may use.
  kmsDenied: new Set(["InvalidKeyId", "KMSAccessDeniedException"]),
  deniedHint:
    "allow ssm:GetParameters on this parameter, and kms:Decrypt on its KMS key if it is a SecureString, for this identity (see docs/providers/awsssm.md#iam-policy)",
  kmsHint:
    "allow kms:Decrypt on the SecureString's KMS key for this identity, and check that the key is enabled (see docs/providers/awsssm.md#iam-policy)",
  credentialsHint:
    "check which AWS identity secretwrap found (see docs/providers/awssecrets.md#credentials: awsssm finds it the same way) and the machine clock",
  refusedHint: "check the reference against docs/providers/awsssm.md#reference-format",
};

/** For GetParametersByPath (the prefix form): its own action in the policy. */
export const SSM_BY_PATH: AwsService = {
  ...SSM,
  deniedHint:
    "allow ssm:GetParametersByPath on the path, and kms:Decrypt on the keys of its SecureStrings, for this identity (see docs/providers/awsssm.md#iam-policy)",
};
