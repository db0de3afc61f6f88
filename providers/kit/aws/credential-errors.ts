// Failures to obtain credentials from a source → SecretwrapError; an STS answer goes through
// mapSdkError like any other AWS call.
import { SecretwrapError } from "../../../src/provider-api.ts";
import type { SourceKind } from "./credentials.ts";
import { type AwsService, mapAwsError, type SdkErrorShape } from "./errors.ts";
import { isTransientStatus } from "../http-status.ts";
import { networkError } from "../network-failure.ts";

/** The endpoint each source talks to, for messages. */
const SOURCE_ENDPOINT: Readonly<Record<SourceKind, string>> = {
  environment: "AWS STS",
  profile: "AWS STS",
  "web identity": "AWS STS",
  container: "the container credentials endpoint",
  "instance metadata": "instance metadata (IMDS)",
  "default profile or instance metadata": "instance metadata (IMDS)",
};

export const NO_CREDENTIALS_HINT =
  "give secretwrap an AWS identity: AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, IRSA (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN), an ECS task role or an EC2 instance profile (see docs/providers/awssecrets.md#credentials)";

/**
 * Maps a failure to obtain credentials from `source` for the provider whose service is `rules` (STS's
 * answers get its hints). `discovered`: the source was only probed for (the
 * chain's last resort, IMDS without AWS_EC2_METADATA_SERVICE_ENDPOINT), so silence there means "no
 * credentials here", as GCP's metadata detection says, not a network fault to retry.
 */
export function mapCredentialError(
  error: unknown,
  source: SourceKind,
  rules: AwsService,
  discovered = false,
  endpoint?: string,
): SecretwrapError {
  if (error instanceof SecretwrapError) return error;
  if (discovered) return noInstanceCredentials(error);
  const e = (typeof error === "object" && error !== null ? error : {}) as SdkErrorShape & {
    message?: string;
  };
  // Every source's socket and TLS failures, by the one rule (STS, the container endpoint, IMDS).
  // fromHttp keeps only the socket error's text ("Error: connect ECONNREFUSED 127.0.0.1:1").
  const network = networkError(error, {
    where: `login (${source}): ${SOURCE_ENDPOINT[source]}`,
    endpoint,
    fromMessage: source === "container",
  });
  if (network !== undefined) return network;
  if (e.$metadata !== undefined)
    return mapAwsError(error, `login (${source})`, { ...rules, name: "AWS STS" }, endpoint);
  if (e.code === "ENOENT" || e.code === "EACCES") {
    return new SecretwrapError(
      "AUTH_FAILED",
      `login (${source}): a credential file could not be read (${e.code})`,
      {
        cause: error,
        hint: "check AWS_WEB_IDENTITY_TOKEN_FILE / AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE / the shared config files",
      },
    );
  }
  if (source === "container") {
    // fromHttp folds every failure into a message; its status, if any, is all we take from it.
    const status = /status: (\d{3})/.exec(e.message ?? "")?.[1];
    if (status !== undefined && !isTransientStatus(Number(status))) {
      return new SecretwrapError(
        "AUTH_FAILED",
        `login (container): the container credentials endpoint answered HTTP ${status}`,
        {
          cause: error,
          hint: "check the task role / pod identity association and AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE)",
        },
      );
    }
    if (/not accepted/.test(e.message ?? "")) {
      return new SecretwrapError(
        "CONFIG_INVALID",
        "login (container): AWS_CONTAINER_CREDENTIALS_FULL_URI must be https or a loopback/ECS/EKS link-local address",
        { cause: error },
      );
    }
    return new SecretwrapError(
      "FETCH_FAILED",
      `login (container): the container credentials endpoint failed${status === undefined ? "" : ` (HTTP ${status})`}`,
      {
        cause: error,
        transient: true,
      },
    );
  }
  if (source === "instance metadata") return noInstanceCredentials(error);
  return new SecretwrapError(
    "AUTH_FAILED",
    `login (${source}): could not obtain AWS credentials (${e.name ?? "Error"})`,
    { cause: error, hint: NO_CREDENTIALS_HINT },
  );
}

function noInstanceCredentials(cause: unknown): SecretwrapError {
  return new SecretwrapError("AUTH_FAILED", "no AWS credentials found (instance metadata did not answer)", {
    cause,
    hint: NO_CREDENTIALS_HINT,
  });
}
