// Failures of AWS calls (a service's API, and STS) → SecretwrapError, by the same rules for every AWS
// provider: only codes, statuses and names reach a message, never an SDK message or body. What differs
// per service (which codes mean "not found", which are KMS's, the hints) is its AwsService.
import { SecretwrapError } from "../../../src/provider-api.ts";
import { clockSkewError, mentionsClockSkew } from "../clock-skew.ts";
import { isTransientStatus } from "../http-status.ts";
import { networkError } from "../network-failure.ts";
import { headerReader, retryAfterMs as waitAsked } from "../retry-after.ts";

/** A service's own part of the mapping. */
export interface AwsService {
  /** As messages name it ("AWS Secrets Manager"). */
  readonly name: string;
  /** Codes that mean what was asked for does not exist. */
  readonly notFound: ReadonlySet<string>;
  /** What does not exist, after "has no such " ("secret or version"). */
  readonly notFoundWhat: string;
  /** Codes that mean the value's KMS key refused (ACCESS_DENIED with kmsHint). */
  readonly kmsDenied: ReadonlySet<string>;
  readonly deniedHint: string;
  readonly kmsHint: string;
  /** For rejected credentials: where the docs say which identity secretwrap found. */
  readonly credentialsHint: string;
  /** For a request the service refused as invalid (400). */
  readonly refusedHint: string;
}

const DENIED = new Set(["AccessDeniedException", "AccessDenied"]);
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
  "InternalServerError",
]);

export interface SdkErrorShape {
  name?: string;
  code?: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

/** Maps a failure of a call to `service` (or to STS for it). `what` names the secret (or "login"). */
export function mapAwsError(
  error: unknown,
  what: string,
  rules: AwsService,
  endpoint?: string,
): SecretwrapError {
  const service = rules.name;
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
  if (rules.notFound.has(name)) {
    return new SecretwrapError(
      "SECRET_NOT_FOUND",
      `${what}: ${service} has no such ${rules.notFoundWhat} (${label})`,
      { cause: error },
    );
  }
  if (DENIED.has(name) || rules.kmsDenied.has(name)) {
    return new SecretwrapError("ACCESS_DENIED", `${what}: ${service} denied access (${label})`, {
      cause: error,
      hint: rules.kmsDenied.has(name) ? rules.kmsHint : rules.deniedHint,
    });
  }
  if (BAD_CREDENTIALS.has(name)) {
    return new SecretwrapError("AUTH_FAILED", `${what}: ${service} rejected the credentials (${label})`, {
      cause: error,
      hint: rules.credentialsHint,
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
      hint: rules.refusedHint,
    });
  }
  return new SecretwrapError("FETCH_FAILED", `${what}: ${service} call failed (${label})`, { cause: error });
}

/** The SDK's message, read only to recognise a clock phrase (never quoted). */
function messageOf(error: unknown): string | undefined {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === "string" ? message : undefined;
}
