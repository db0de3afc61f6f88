// ref+awssecrets://<name|ARN>[?version_id=…|version_stage=…][&region=…][#field]: AWS Secrets Manager.
// Credentials come from the AWS SDK's own providers, picked in the SDK's default-chain order from the
// environment secretwrap started with (static keys, profile, web identity, container endpoint, IMDS).
// Secrets without a version that are requested together in one region are fetched with
// BatchGetSecretValue (20 per call); BatchGetSecretValue reports per-secret failures inside a 200, so
// each one is mapped on its own. The SDK makes one attempt per call: src/retry.ts decides on retries.
import { readFileSync } from "node:fs";
import { Agent } from "node:https";
import type {
  BatchGetSecretValueCommandOutput,
  GetSecretValueCommandOutput,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { boolean, optional, safeParse, string, strictObject, type infer as Infer } from "zod/mini";
import type { Ref } from "../src/config/ref.ts";
import { toIssues } from "../src/config/issues.ts";
import { checkEndpoint, readCaFile, trustingAlso } from "../src/endpoint.ts";
import { SecretwrapError } from "../src/errors.ts";
import { commonJs } from "../src/interop.ts";
import { MAX_SECRET_BYTES } from "../src/limits.ts";
import { TLS_FAILURE, TRANSIENT_NETWORK_CODES } from "../src/network.ts";
import type { Fetched, Provider, ProviderContext, Session } from "../src/provider.ts";

const NAME = "awssecrets";
/** BatchGetSecretValue takes at most 20 ids in SecretIdList. */
export const BATCH_LIMIT = 20;

const Options = strictObject({
  /** Default region for references that name neither `?region` nor an ARN. */
  region: optional(string()),
  /** Profile in the shared config/credentials files (like AWS_PROFILE). */
  profile: optional(string()),
  /** Secrets Manager endpoint (private endpoints, emulators, tests). */
  endpoint: optional(string()),
  /** STS endpoint for web identity (like AWS_ENDPOINT_URL_STS). */
  stsEndpoint: optional(string()),
  caFile: optional(string()),
  allowHttp: optional(boolean()),
});
type AwsOptions = Infer<typeof Options>;

type Env = ProviderContext["env"];
type SecretValue = Pick<
  GetSecretValueCommandOutput,
  "ARN" | "Name" | "VersionId" | "SecretString" | "SecretBinary"
>;
type Sdk = typeof import("@aws-sdk/client-secrets-manager");
type AwsCredentialIdentity = Awaited<
  ReturnType<ReturnType<typeof import("@aws-sdk/credential-providers").fromIni>>
>;

const ARN_REGION = /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):/;

// ---- error mapping: only codes, statuses and names reach a message, never an SDK message or body ----

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

interface SdkErrorShape {
  name?: string;
  code?: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

/** Maps a failure of a Secrets Manager or STS call. `what` names the secret (or "login"). */
export function mapSdkError(error: unknown, what: string, service: string): SecretwrapError {
  if (error instanceof SecretwrapError) return error;
  const e = (typeof error === "object" && error !== null ? error : {}) as SdkErrorShape;
  const name = e.name ?? "Error";
  const status = e.$metadata?.httpStatusCode;
  const label = `${name}${status === undefined ? "" : `, HTTP ${status}`}`;
  const syscall = e.code ?? "";
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
    status === 429 ||
    status === 408 ||
    SERVER_SIDE.has(name) ||
    (status !== undefined && status >= 500) ||
    e.$fault === "server"
  ) {
    const retryAfterMs = parseRetryAfter(e.$response?.headers?.["retry-after"]);
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
  if (TLS_FAILURE.test(syscall)) {
    return new SecretwrapError(
      "FETCH_FAILED",
      `${what}: TLS verification of the ${service} endpoint failed (${syscall})`,
      {
        cause: error,
        hint: "give the endpoint's CA with providers.awssecrets.caFile or AWS_CA_BUNDLE; verification is never turned off",
      },
    );
  }
  if (
    TRANSIENT_NETWORK_CODES.has(syscall) ||
    name === "TimeoutError" ||
    name === "AbortError" ||
    name === "RequestTimeout"
  ) {
    return new SecretwrapError(
      "FETCH_FAILED",
      `${what}: ${service} could not be reached (${syscall === "" ? name : syscall})`,
      { cause: error, transient: true },
    );
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

function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

// ---- endpoints and TLS ----

const truthy = (value: string | undefined): boolean => value !== undefined && value.toLowerCase() === "true";

function endpointFor(
  configured: string | undefined,
  env: Env,
  variable: string,
  allowHttp: boolean,
): string | undefined {
  const ignoreEnv = truthy(env["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"]);
  const raw = configured ?? (ignoreEnv ? undefined : (env[variable] ?? env["AWS_ENDPOINT_URL"]));
  if (raw === undefined || raw === "") return undefined;
  // Credential-bearing (signed) requests: plain http only to loopback unless allowHttp.
  return checkEndpoint(raw, NAME, allowHttp).href.replace(/\/$/, "");
}

interface HandlerOptions {
  readonly httpsAgent: Agent;
  readonly requestTimeout: number;
  readonly connectionTimeout: number;
}

function requestHandlerOptions(options: AwsOptions, env: Env, timeoutMs: number): HandlerOptions {
  const caPath = options.caFile ?? env["AWS_CA_BUNDLE"];
  const ca = caPath === undefined || caPath === "" ? undefined : readCaFile(caPath, NAME);
  const httpsAgent = new Agent({
    keepAlive: true,
    rejectUnauthorized: true,
    ...(ca === undefined ? {} : trustingAlso(ca)),
  });
  return { httpsAgent, requestTimeout: timeoutMs, connectionTimeout: timeoutMs };
}

// ---- credentials: the SDK's default-chain order, each source read from ctx.env ----

type SourceKind =
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
}

interface ChainInput {
  readonly options: AwsOptions;
  readonly env: Env;
  readonly region: string | undefined;
  readonly handler: HandlerOptions;
  readonly logger: SdkLogger;
  readonly timeoutMs: number;
}

async function pickCredentialSource(input: ChainInput): Promise<CredentialSource> {
  const { options, env } = input;
  const providers = commonJs(await import("@aws-sdk/credential-providers"));
  const profile = options.profile ?? env["AWS_PROFILE"];
  const files = {
    ...(env["AWS_SHARED_CREDENTIALS_FILE"] === undefined
      ? {}
      : { filepath: env["AWS_SHARED_CREDENTIALS_FILE"] }),
    ...(env["AWS_CONFIG_FILE"] === undefined ? {} : { configFilepath: env["AWS_CONFIG_FILE"] }),
  };
  const stsConfig = {
    maxAttempts: 1,
    requestHandler: input.handler,
    ...(input.region === undefined ? {} : { region: input.region }),
    ...withEndpoint(
      endpointFor(options.stsEndpoint, env, "AWS_ENDPOINT_URL_STS", options.allowHttp === true),
    ),
  };
  const accessKeyId = env["AWS_ACCESS_KEY_ID"];
  const secretAccessKey = env["AWS_SECRET_ACCESS_KEY"];
  // 1. Static keys, unless a profile is named (the SDK prefers the profile then, too).
  if (profile === undefined && nonEmpty(accessKeyId) && nonEmpty(secretAccessKey)) {
    const sessionToken = env["AWS_SESSION_TOKEN"];
    const identity: AwsCredentialIdentity = {
      accessKeyId,
      secretAccessKey,
      ...(nonEmpty(sessionToken) ? { sessionToken } : {}),
    };
    return {
      kind: "environment",
      provider: () => Promise.resolve(identity),
      consumedEnv: [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        ...(nonEmpty(sessionToken) ? ["AWS_SESSION_TOKEN"] : []),
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
    };
  }
  // 3. Web identity (EKS IRSA): the token file is re-read on every login attempt.
  const tokenFile = env["AWS_WEB_IDENTITY_TOKEN_FILE"];
  const roleArn = env["AWS_ROLE_ARN"];
  if (nonEmpty(tokenFile) && nonEmpty(roleArn)) {
    const sessionName = env["AWS_ROLE_SESSION_NAME"];
    return {
      kind: "web identity",
      provider: providers.fromTokenFile({
        webIdentityTokenFile: tokenFile,
        roleArn,
        ...(nonEmpty(sessionName) ? { roleSessionName: sessionName } : {}),
        logger: input.logger,
        clientConfig: stsConfig,
      }),
      consumedEnv: [],
      credentialPaths: [tokenFile],
    };
  }
  // 4. Container credentials (ECS task role, EKS Pod Identity).
  const relative = env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"];
  const full = env["AWS_CONTAINER_CREDENTIALS_FULL_URI"];
  if (nonEmpty(relative) || nonEmpty(full)) {
    const token = env["AWS_CONTAINER_AUTHORIZATION_TOKEN"];
    const tokenFileForHttp = env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"];
    return {
      kind: "container",
      provider: providers.fromHttp({
        ...(nonEmpty(relative)
          ? { awsContainerCredentialsRelativeUri: relative }
          : { awsContainerCredentialsFullUri: full ?? "" }),
        ...(nonEmpty(tokenFileForHttp)
          ? { awsContainerAuthorizationTokenFile: tokenFileForHttp }
          : nonEmpty(token)
            ? { awsContainerAuthorizationToken: token }
            : {}),
        timeout: input.timeoutMs,
        maxRetries: 0,
        logger: input.logger,
      }),
      consumedEnv:
        nonEmpty(token) && !nonEmpty(tokenFileForHttp) ? ["AWS_CONTAINER_AUTHORIZATION_TOKEN"] : [],
      credentialPaths: nonEmpty(tokenFileForHttp) ? [tokenFileForHttp] : [],
      credentialValues: nonEmpty(token) ? [token] : [],
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
          throw mapCredentialError(error, "profile");
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
        throw mapCredentialError(error, "instance metadata");
      }
    },
    consumedEnv: [],
  };
}

const NO_CREDENTIALS_HINT =
  "give secretwrap an AWS identity: AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, IRSA (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN), an ECS task role or an EC2 instance profile (see docs/providers/awssecrets.md#credentials)";

/** Maps a failure to obtain credentials from `source`. */
function mapCredentialError(error: unknown, source: SourceKind): SecretwrapError {
  if (error instanceof SecretwrapError) return error;
  const e = (typeof error === "object" && error !== null ? error : {}) as SdkErrorShape & {
    message?: string;
  };
  if (e.$metadata !== undefined) return mapSdkError(error, `login (${source})`, "AWS STS");
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
    if (status !== undefined && Number(status) < 500 && Number(status) !== 429 && Number(status) !== 408) {
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
  if (source === "instance metadata") {
    return new SecretwrapError("AUTH_FAILED", "no AWS credentials found (instance metadata did not answer)", {
      cause: error,
      hint: NO_CREDENTIALS_HINT,
    });
  }
  return new SecretwrapError(
    "AUTH_FAILED",
    `login (${source}): could not obtain AWS credentials (${e.name ?? "Error"})`,
    { cause: error, hint: NO_CREDENTIALS_HINT },
  );
}

// ---- the SDK must not print anything on its own ----

interface SdkLogger {
  debug(...content: unknown[]): void;
  info(...content: unknown[]): void;
  warn(...content: unknown[]): void;
  error(...content: unknown[]): void;
}

function quietLogger(ctx: ProviderContext): SdkLogger {
  // Credential providers fall back to console.warn without a logger; their warnings are configuration
  // notes (e.g. two container token variables), kept for --log-level debug. Content is never logged:
  // it can carry request details.
  const note = (): void =>
    ctx.log.debug("the AWS SDK emitted a warning (not shown: it may carry request details)");
  return { debug: () => {}, info: () => {}, warn: note, error: note };
}

// ---- fetching ----

interface Waiter {
  readonly id: string;
  readonly signal: AbortSignal;
  readonly resolve: (value: SecretValue) => void;
  readonly reject: (error: SecretwrapError) => void;
}

/**
 * Collects the version-less requests for one region that arrive in the same turn of the event loop
 * (the core starts up to --concurrency fetches at once) and sends them as BatchGetSecretValue calls;
 * a lone request goes out as GetSecretValue.
 */
class RegionBatcher {
  readonly #client: SecretsManagerClient;
  readonly #sdk: Sdk;
  #queue: Waiter[] = [];
  /** The identity may call GetSecretValue but not BatchGetSecretValue: stop trying to batch. */
  #batchDenied = false;

  constructor(client: SecretsManagerClient, sdk: Sdk) {
    this.#client = client;
    this.#sdk = sdk;
  }

  get(id: string, signal: AbortSignal): Promise<SecretValue> {
    return new Promise((resolve, reject) => {
      if (this.#queue.length === 0) setImmediate(() => void this.#flush());
      this.#queue.push({ id, signal, resolve, reject });
    });
  }

  async #flush(): Promise<void> {
    const waiters = this.#queue.filter((w) => !w.signal.aborted);
    this.#queue = [];
    if (waiters.length === 1 || this.#batchDenied) {
      await Promise.all(waiters.map((w) => this.#single(w)));
      return;
    }
    const chunks: Waiter[][] = [];
    for (let i = 0; i < waiters.length; i += BATCH_LIMIT) chunks.push(waiters.slice(i, i + BATCH_LIMIT));
    await Promise.all(chunks.map((chunk) => this.#batch(chunk)));
  }

  async #batch(chunk: Waiter[]): Promise<void> {
    const ids = [...new Set(chunk.map((w) => w.id))];
    let output: BatchGetSecretValueCommandOutput;
    try {
      output = await this.#client.send(new this.#sdk.BatchGetSecretValueCommand({ SecretIdList: ids }), {
        abortSignal: allAborted(chunk.map((w) => w.signal)),
      });
    } catch (error) {
      const failure = mapSdkError(error, "BatchGetSecretValue", "AWS Secrets Manager");
      if (failure.code === "ACCESS_DENIED") {
        // Many policies grant only GetSecretValue; each secret then goes out on its own.
        this.#batchDenied = true;
        await Promise.all(chunk.map((w) => this.#single(w)));
        return;
      }
      for (const w of chunk) w.reject(mapSdkError(error, w.id, "AWS Secrets Manager"));
      return;
    }
    const values = output.SecretValues ?? [];
    const errors = output.Errors ?? [];
    for (const w of chunk) {
      const value = values.find((v) => v.Name === w.id || v.ARN === w.id);
      if (value !== undefined) {
        w.resolve(value);
        continue;
      }
      const failure = errors.find((e) => e.SecretId === w.id);
      if (failure !== undefined) {
        w.reject(mapSdkError({ name: failure.ErrorCode ?? "UnknownError" }, w.id, "AWS Secrets Manager"));
        continue;
      }
      // Neither listed (e.g. a partial ARN the answer spells out in full): ask for it alone.
      void this.#single(w);
    }
  }

  #single(w: Waiter): Promise<void> {
    return getSingle(this.#client, this.#sdk, { SecretId: w.id }, w.signal, w.id).then(w.resolve, w.reject);
  }
}

/** A signal that fires once every participant of a shared call has given up. */
function allAborted(signals: readonly AbortSignal[]): AbortSignal {
  const controller = new AbortController();
  let remaining = signals.length;
  for (const signal of signals) {
    const onAbort = (): void => {
      remaining -= 1;
      if (remaining === 0) controller.abort(signal.reason);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  }
  return controller.signal;
}

async function getSingle(
  client: SecretsManagerClient,
  sdk: Sdk,
  input: { SecretId: string; VersionId?: string; VersionStage?: string },
  signal: AbortSignal,
  what: string,
): Promise<SecretValue> {
  try {
    return await client.send(new sdk.GetSecretValueCommand(input), { abortSignal: signal });
  } catch (error) {
    throw mapSdkError(error, what, "AWS Secrets Manager");
  }
}

function toFetched(value: SecretValue, what: string): Fetched {
  let bytes: Uint8Array;
  if (value.SecretBinary !== undefined) bytes = value.SecretBinary;
  else if (value.SecretString !== undefined) bytes = new TextEncoder().encode(value.SecretString);
  else throw new SecretwrapError("FETCH_FAILED", `${what}: the secret version holds no value`);
  if (bytes.length > MAX_SECRET_BYTES) {
    throw new SecretwrapError("FETCH_FAILED", `${what}: the value is larger than ${MAX_SECRET_BYTES} bytes`);
  }
  return value.VersionId === undefined ? { bytes } : { bytes, version: value.VersionId };
}

// ---- the session ----

interface RegionClient {
  readonly client: SecretsManagerClient;
  readonly batcher: RegionBatcher;
}

async function connect(rawOptions: unknown, ctx: ProviderContext): Promise<Session> {
  const options = rawOptions as AwsOptions;
  const env = ctx.env;
  // The SDK warns on stderr about Node < 22 from every client constructor; this is secretwrap's own
  // process (the app's environment was copied before any provider ran), and the user gets nothing
  // from that warning in an ENTRYPOINT.
  process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] = "true";
  const sdk = commonJs(await import("@aws-sdk/client-secrets-manager"));
  const logger = quietLogger(ctx);
  const handler = requestHandlerOptions(options, env, ctx.attemptTimeoutMs);
  const endpoint = endpointFor(
    options.endpoint,
    env,
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    options.allowHttp === true,
  );
  const profile = options.profile ?? env["AWS_PROFILE"];
  const defaultRegion =
    options.region ??
    nonEmptyOr(env["AWS_REGION"]) ??
    nonEmptyOr(env["AWS_DEFAULT_REGION"]) ??
    (await profileRegion(sdk, profile));

  const source = await pickCredentialSource({
    options,
    env,
    region: defaultRegion,
    handler,
    logger,
    timeoutMs: ctx.attemptTimeoutMs,
  });
  for (const value of source.credentialValues ?? []) ctx.addSecret(value);
  for (const path of source.credentialPaths ?? []) {
    try {
      ctx.addSecret(readFileSync(path));
    } catch {
      // unreadable: the SDK's own read fails the login with a clear message
    }
  }
  let credentials: AwsCredentialIdentity;
  try {
    credentials = await source.provider();
  } catch (error) {
    throw mapCredentialError(error, source.kind);
  }
  for (const value of [credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken]) {
    if (value !== undefined && value !== "") ctx.addSecret(value);
  }
  ctx.log.debug("AWS credentials obtained", { provider: NAME, source: source.kind });

  const clients = new Map<string, RegionClient>();
  const clientFor = (region: string): RegionClient => {
    let entry = clients.get(region);
    if (entry === undefined) {
      const client = new sdk.SecretsManagerClient({
        region,
        credentials,
        maxAttempts: 1,
        requestHandler: handler,
        ...withEndpoint(endpoint),
      });
      entry = { client, batcher: new RegionBatcher(client, sdk) };
      clients.set(region, entry);
    }
    return entry;
  };

  return {
    consumedEnv: source.consumedEnv,
    batchSize: BATCH_LIMIT,
    async fetch(ref: Ref, signal: AbortSignal): Promise<Fetched> {
      const what = ref.locator;
      const region = ref.params["region"] ?? ARN_REGION.exec(ref.locator)?.[1] ?? defaultRegion;
      if (region === undefined) {
        throw new SecretwrapError("CONFIG_INVALID", `${what}: no AWS region is known for this secret`, {
          hint: "add ?region=<region> to the reference, use the secret's ARN, set AWS_REGION, or set providers.awssecrets.region",
        });
      }
      const { client, batcher } = clientFor(region);
      const versionId = ref.params["version_id"];
      const versionStage = ref.params["version_stage"];
      // BatchGetSecretValue serves the AWSCURRENT version only.
      const value =
        versionId === undefined && versionStage === undefined
          ? await batcher.get(ref.locator, signal)
          : await getSingle(
              client,
              sdk,
              {
                SecretId: ref.locator,
                ...(versionId === undefined ? {} : { VersionId: versionId }),
                ...(versionStage === undefined ? {} : { VersionStage: versionStage }),
              },
              signal,
              what,
            );
      return toFetched(value, what);
    },
    close(): Promise<void> {
      for (const { client } of clients.values()) client.destroy();
      handler.httpsAgent.destroy();
      return Promise.resolve();
    },
  };
}

/** The region of the shared config profile, as the SDK would find it (undefined when there is none). */
async function profileRegion(sdk: Sdk, profile: string | undefined): Promise<string | undefined> {
  const probe = new sdk.SecretsManagerClient(profile === undefined ? {} : { profile });
  try {
    return await probe.config.region();
  } catch {
    return undefined;
  } finally {
    probe.destroy();
  }
}

function withEndpoint(endpoint: string | undefined): { endpoint?: string } {
  return endpoint === undefined ? {} : { endpoint };
}

function nonEmpty(value: string | undefined): value is string {
  return value !== undefined && value !== "";
}

function nonEmptyOr(value: string | undefined): string | undefined {
  return nonEmpty(value) ? value : undefined;
}

export const provider: Provider = {
  scheme: NAME,
  validateOptions: (options) => {
    const result = safeParse(Options, options);
    if (!result.success) return toIssues(result.error.issues);
    const issues = [];
    for (const key of ["endpoint", "stsEndpoint"] as const) {
      const value = result.data[key];
      if (value === undefined) continue;
      try {
        checkEndpoint(value, NAME, result.data.allowHttp === true);
      } catch (error) {
        issues.push({ path: [key], message: (error as Error).message });
      }
    }
    return issues;
  },
  connect: (options, ctx) => connect(options, ctx),
};
