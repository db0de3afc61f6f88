// Failures of Secrets Manager and STS calls → SecretwrapError: only codes, statuses and names reach a
// message, never an SDK message or body.
import { SecretwrapError } from "../../src/provider-api.ts";
import { clockSkewError, mentionsClockSkew } from "../kit/clock-skew.ts";
import { isTransientStatus } from "../kit/http-status.ts";
import { networkError } from "../kit/network-failure.ts";
import { headerReader, retryAfterMs as waitAsked } from "../kit/retry-after.ts";

const NOT_FOUND = new Set(["ResourceNotFoundException"]);
const DENIED = new Set([
  "AccessDeniedException",
  "AccessDenied",
  "DecryptionFailure",
  "KMSAccessDeniedException",
]);
const BAD_CREDENTIALS = new Set([
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
  "IncompleteSignature",
  "InvalidClientTokenId",
  "ExpiredTokenException",
  "ExpiredToken",
  "MissingAuthenticationToken",
  "InvalidIdentityTokenException",
  "InvalidIdentityToken",
  "IDPRejectedClaimException",
  "IDPRejectedClaim",
  "IDPCommunicationErrorException",
  "RegionDisabledException",
  "PackedPolicyTooLargeException",
]);
// SigV4 refused for the time it was signed at: the clock, not the keys. SignatureDoesNotMatch and
// InvalidSignatureException say so only in their message ("Signature expired: … is now earlier than …").
const CLOCK_SKEW = new Set(["RequestTimeTooSkewed", "RequestExpired"]);
const THROTTLED = new Set([
  "ThrottlingException",
  "Throttling",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "LimitExceededException",
  "PriorRequestNotComplete",
]);
const SERVER_SIDE = new Set([
  "InternalServiceError",
  "InternalFailure",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "InternalError",
]);

export interface SdkErrorShape {
  name?: string;
  code?: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

/** Maps a failure of a Secrets Manager or STS call. `what` names the secret (or "login"). */
export function mapSdkError(
  error: unknown,
  what: string,
  service: string,
  endpoint?: string,
): SecretwrapError {
  if (error instanceof SecretwrapError) return error;
  const e = (typeof error === "object" && error !== null ? error : {}) as SdkErrorShape;
  const name = e.name ?? "Error";
  const status = e.$metadata?.httpStatusCode;
  const label = `${name}${status === undefined ? "" : `, HTTP ${status}`}`;
  const network = networkError(error, { where: `${what}: ${service}`, endpoint });
  if (network !== undefined) return network;
  if (CLOCK_SKEW.has(name) || (BAD_CREDENTIALS.has(name) && mentionsClockSkew(messageOf(error)))) {
    return clockSkewError(`${what}: ${service}`, label);
  }
  if (NOT_FOUND.has(name)) {
    return new SecretwrapError(
      "SECRET_NOT_FOUND",
      `${what}: ${service} has no such secret or version (${label})`,
      { cause: error },
    );
  }
  if (DENIED.has(name)) {
    const kms = name === "DecryptionFailure" || name.startsWith("KMS");
    return new SecretwrapError("ACCESS_DENIED", `${what}: ${service} denied access (${label})`, {
      cause: error,
      hint: kms
        ? "allow kms:Decrypt on the secret's KMS key for this identity (see docs/providers/awssecrets.md#iam-policy)"
        : "allow secretsmanager:GetSecretValue (and BatchGetSecretValue) on this secret for this identity (see docs/providers/awssecrets.md#iam-policy)",
    });
  }
  if (BAD_CREDENTIALS.has(name)) {
    return new SecretwrapError("AUTH_FAILED", `${what}: ${service} rejected the credentials (${label})`, {
      cause: error,
      hint: "check which AWS identity secretwrap found (see docs/providers/awssecrets.md#credentials) and the machine clock",
    });
  }
  if (
    THROTTLED.has(name) ||
    SERVER_SIDE.has(name) ||
    (status !== undefined && isTransientStatus(status)) ||
    e.$fault === "server"
  ) {
    const retryAfterMs = waitAsked(headerReader(e.$response?.headers));
    return new SecretwrapError(
      "FETCH_FAILED",
      `${what}: ${service} is ${THROTTLED.has(name) || status === 429 ? "throttling" : "failing"} (${label})`,
      {
        cause: error,
        transient: true,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      },
    );
  }
  if (name === "TimeoutError" || name === "AbortError" || name === "RequestTimeout") {
    return new SecretwrapError("FETCH_FAILED", `${what}: ${service} did not answer in time (${name})`, {
      cause: error,
      transient: true,
    });
  }
  if (
    name === "InvalidParameterException" ||
    name === "InvalidRequestException" ||
    name === "ValidationException"
  ) {
    return new SecretwrapError("FETCH_FAILED", `${what}: ${service} refused the request (${label})`, {
      cause: error,
      hint: "check the reference: version_id must exist, and a secret scheduled for deletion cannot be read until restored",
    });
  }
  return new SecretwrapError("FETCH_FAILED", `${what}: ${service} call failed (${label})`, { cause: error });
}

/** The SDK's message, read only to recognise a clock phrase (never quoted). */
function messageOf(error: unknown): string | undefined {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === "string" ? message : undefined;
}
