// Credentials: the SDK's default-chain order (static keys, profile, web identity, container endpoint,
// default profile, instance metadata), each source read from ctx.env; the first that applies is used.
import { SecretwrapError, commonJs } from "../../../src/provider-api.ts";
import { mapCredentialError, NO_CREDENTIALS_HINT } from "./credential-errors.ts";
import { endpointFor, withEndpoint, type HandlerOptions } from "./endpoints.ts";
import { isSet, type Env } from "../env-values.ts";
import { truthy } from "./env.ts";
import type { AwsService } from "./errors.ts";
import type { SdkLogger } from "./logger.ts";
import type { AwsOptions } from "./options.ts";

export type AwsCredentialIdentity = Awaited<
  ReturnType<ReturnType<typeof import("@aws-sdk/credential-providers").fromIni>>
>;

export type SourceKind =
  | "environment"
  | "profile"
  | "web identity"
  | "container"
  | "instance metadata"
  | "default profile or instance metadata";

interface CredentialSource {
  readonly kind: SourceKind;
  readonly provider: () => Promise<AwsCredentialIdentity>;
  /** Credential values this source took from the environment (removed from the app's env). */
  readonly consumedEnv: readonly string[];
  /** Credentials the SDK reads itself (tokens in env or files), to be masked in every output. */
  readonly credentialPaths?: readonly string[];
  readonly credentialValues?: readonly string[];
  /** The endpoint this source calls when it is configured (STS, the container endpoint), for messages. */
  readonly endpoint?: string;
}

interface ChainInput {
  /** The provider's name, for messages. */
  readonly provider: string;
  /** Its service, whose hints STS's answers get. */
  readonly rules: AwsService;
  readonly options: AwsOptions;
  readonly env: Env;
  readonly region: string | undefined;
  readonly handler: HandlerOptions;
  readonly logger: SdkLogger;
  readonly timeoutMs: number;
}

export async function pickCredentialSource(input: ChainInput): Promise<CredentialSource> {
  const { options, env } = input;
  const providers = commonJs(await import("@aws-sdk/credential-providers"));
  const profile = options.profile ?? env["AWS_PROFILE"];
  const files = {
    ...(env["AWS_SHARED_CREDENTIALS_FILE"] === undefined
      ? {}
      : { filepath: env["AWS_SHARED_CREDENTIALS_FILE"] }),
    ...(env["AWS_CONFIG_FILE"] === undefined ? {} : { configFilepath: env["AWS_CONFIG_FILE"] }),
  };
  const stsEndpoint = endpointFor(
    input.provider,
    options.stsEndpoint,
    env,
    "AWS_ENDPOINT_URL_STS",
    options.allowHttp === true,
  );
  const stsConfig = {
    maxAttempts: 1,
    requestHandler: input.handler,
    ...(input.region === undefined ? {} : { region: input.region }),
    ...withEndpoint(stsEndpoint),
  };
  const accessKeyId = env["AWS_ACCESS_KEY_ID"];
  const secretAccessKey = env["AWS_SECRET_ACCESS_KEY"];
  // 1. Static keys, unless a profile is named (the SDK prefers the profile then, too).
  if (profile === undefined && isSet(accessKeyId) && isSet(secretAccessKey)) {
    const sessionToken = env["AWS_SESSION_TOKEN"];
    const identity: AwsCredentialIdentity = {
      accessKeyId,
      secretAccessKey,
      ...(isSet(sessionToken) ? { sessionToken } : {}),
    };
    return {
      kind: "environment",
      provider: () => Promise.resolve(identity),
      consumedEnv: [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        ...(isSet(sessionToken) ? ["AWS_SESSION_TOKEN"] : []),
      ],
    };
  }
  // 2. A named profile: SSO, credential_process, role_arn/source_profile and web identity in the
  // profile are all handled by the SDK's ini provider.
  if (profile !== undefined) {
    return {
      kind: "profile",
      provider: providers.fromIni({ profile, ...files, logger: input.logger, clientConfig: stsConfig }),
      consumedEnv: [],
      ...(stsEndpoint === undefined ? {} : { endpoint: stsEndpoint }),
    };
  }
  // 3. Web identity (EKS IRSA): the token file is re-read on every login attempt.
  const tokenFile = env["AWS_WEB_IDENTITY_TOKEN_FILE"];
  const roleArn = env["AWS_ROLE_ARN"];
  if (isSet(tokenFile) && isSet(roleArn)) {
    const sessionName = env["AWS_ROLE_SESSION_NAME"];
    return {
      kind: "web identity",
      provider: providers.fromTokenFile({
        webIdentityTokenFile: tokenFile,
        roleArn,
        ...(isSet(sessionName) ? { roleSessionName: sessionName } : {}),
        logger: input.logger,
        clientConfig: stsConfig,
      }),
      consumedEnv: [],
      credentialPaths: [tokenFile],
      ...(stsEndpoint === undefined ? {} : { endpoint: stsEndpoint }),
    };
  }
  // 4. Container credentials (ECS task role, EKS Pod Identity).
  const relative = env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"];
  const full = env["AWS_CONTAINER_CREDENTIALS_FULL_URI"];
  if (isSet(relative) || isSet(full)) {
    const token = env["AWS_CONTAINER_AUTHORIZATION_TOKEN"];
    const tokenFileForHttp = env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"];
    return {
      kind: "container",
      provider: providers.fromHttp({
        ...(isSet(relative)
          ? { awsContainerCredentialsRelativeUri: relative }
          : { awsContainerCredentialsFullUri: full ?? "" }),
        ...(isSet(tokenFileForHttp)
          ? { awsContainerAuthorizationTokenFile: tokenFileForHttp }
          : isSet(token)
            ? { awsContainerAuthorizationToken: token }
            : {}),
        timeout: input.timeoutMs,
        maxRetries: 0,
        logger: input.logger,
      }),
      consumedEnv: isSet(token) && !isSet(tokenFileForHttp) ? ["AWS_CONTAINER_AUTHORIZATION_TOKEN"] : [],
      credentialPaths: isSet(tokenFileForHttp) ? [tokenFileForHttp] : [],
      credentialValues: isSet(token) ? [token] : [],
      ...containerOrigin(isSet(relative) ? `http://169.254.170.2${relative}` : (full ?? "")),
    };
  }
  // 5. The default profile of the shared files, else 6. EC2 instance metadata (IMDSv2, then v1), as
  // the SDK's chain does: a missing default profile falls through, any other profile error stops.
  const ini = providers.fromIni({ ...files, logger: input.logger, clientConfig: stsConfig });
  const imds = truthy(env["AWS_EC2_METADATA_DISABLED"])
    ? undefined
    : providers.fromInstanceMetadata({
        timeout: Math.min(input.timeoutMs, 2000),
        maxRetries: 1,
        logger: input.logger,
      });
  return {
    kind: "default profile or instance metadata",
    provider: async () => {
      try {
        return await ini();
      } catch (error) {
        if ((error as { tryNextLink?: boolean }).tryNextLink !== true)
          throw mapCredentialError(error, "profile", input.rules);
      }
      if (imds === undefined) {
        throw new SecretwrapError(
          "AUTH_FAILED",
          "no AWS credentials found (and instance metadata is disabled)",
          { hint: NO_CREDENTIALS_HINT },
        );
      }
      try {
        return await imds();
      } catch (error) {
        const imdsEndpoint = env["AWS_EC2_METADATA_SERVICE_ENDPOINT"];
        throw mapCredentialError(error, "instance metadata", input.rules, !isSet(imdsEndpoint), imdsEndpoint);
      }
    },
    consumedEnv: [],
  };
}

/** The container endpoint's origin only (its path and query may carry an identifier). */
function containerOrigin(url: string): { endpoint?: string } {
  return URL.canParse(url) ? { endpoint: new URL(url).origin } : {};
}
