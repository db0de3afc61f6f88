// connect(): credentials once, then one Secrets Manager client and batcher per region; fetch,
// checkVersion (describe.ts) and close.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import {
  type Fetched,
  type ProviderContext,
  type Ref,
  type Session,
  commonJs,
} from "../../src/provider-api.ts";
import { ClientCache } from "../kit/client-cache.ts";
import { refuseIfNotRegularFile } from "../kit/credential-file.ts";
import { nonEmpty } from "../kit/env-values.ts";
import { connectWithProcessEnv } from "../kit/process-env.ts";
import { BATCH_LIMIT, RegionBatcher } from "./batcher.ts";
import { mapCredentialError } from "./credential-errors.ts";
import { DescribeAccess, checkVersion } from "./describe.ts";
import { pickCredentialSource, type AwsCredentialIdentity } from "./credentials.ts";
import { refreshingCredentials } from "./refresh.ts";
import { endpointFor, requestHandlerOptions, withEndpoint } from "./endpoints.ts";
import { quietLogger } from "./logger.ts";
import { NAME, type AwsOptions } from "./options.ts";
import { getSingle, toFetched } from "./read.ts";
import { profileRegion, regionFor } from "./region.ts";

interface RegionClient {
  readonly client: SecretsManagerClient;
  readonly batcher: RegionBatcher;
}

/** The files the SDK opens itself: each must be a regular file (or absent) before it is asked. */
const SDK_FILES = [
  "AWS_SHARED_CREDENTIALS_FILE",
  "AWS_CONFIG_FILE",
  "AWS_WEB_IDENTITY_TOKEN_FILE",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
] as const;

function refuseSdkFiles(env: ProviderContext["env"]): void {
  const home = nonEmpty(env["HOME"]) ?? homedir();
  const defaults: Record<string, string> = {
    AWS_SHARED_CREDENTIALS_FILE: join(home, ".aws", "credentials"),
    AWS_CONFIG_FILE: join(home, ".aws", "config"),
  };
  for (const name of SDK_FILES) {
    const path = nonEmpty(env[name]) ?? defaults[name];
    if (path !== undefined) refuseIfNotRegularFile(path, NAME, `the file of ${name}`);
  }
}

/** `options` passed the block's schema (options.ts) in the core. */
export async function connect(
  options: AwsOptions,
  ctx: ProviderContext,
  signal: AbortSignal,
): Promise<Session> {
  const env = ctx.env;
  refuseSdkFiles(env);
  // The SDK warns on stderr about Node < 22 from every client constructor, unless this variable says
  // not to (it takes no option); the user gets nothing from that warning in an ENTRYPOINT.
  return connectWithProcessEnv({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" }, (restoreEnv) =>
    open(options, ctx, signal, restoreEnv),
  );
}

async function open(
  options: AwsOptions,
  ctx: ProviderContext,
  signal: AbortSignal,
  restoreEnv: () => void,
): Promise<Session> {
  const env = ctx.env;
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
    nonEmpty(env["AWS_REGION"]) ??
    nonEmpty(env["AWS_DEFAULT_REGION"]) ??
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
  // The SDK's credential providers take no AbortSignal, but their STS and SSO requests go through the
  // handler's HTTPS agent: an aborted login destroys it, which closes their sockets (the login has
  // failed, so no session will use the agent). The container endpoint and instance metadata go
  // through the SDK's own agents and end at their own timeouts.
  signal.throwIfAborted();
  const closeAgent = (): void => handler.httpsAgent.destroy();
  signal.addEventListener("abort", closeAgent, { once: true });
  let credentials: AwsCredentialIdentity;
  try {
    credentials = await source.provider();
  } catch (error) {
    throw mapCredentialError(error, source.kind, false, source.endpoint);
  } finally {
    signal.removeEventListener("abort", closeAgent);
  }
  // Obtained as the login was given up: the caller has stopped waiting, so no one would close a session.
  signal.throwIfAborted();
  const mask = (identity: AwsCredentialIdentity): void => {
    for (const value of [identity.accessKeyId, identity.secretAccessKey, identity.sessionToken]) {
      if (value !== undefined && value !== "") ctx.addSecret(value);
    }
  };
  mask(credentials);
  ctx.log.debug("AWS credentials obtained", { provider: NAME, source: source.kind });

  const refreshing = refreshingCredentials(
    credentials,
    () =>
      source
        .provider()
        .catch((error: unknown) =>
          Promise.reject(mapCredentialError(error, source.kind, false, source.endpoint)),
        ),
    mask,
  );
  const clients = new ClientCache<RegionClient>((region) => {
    const client = new sdk.SecretsManagerClient({
      region,
      credentials: refreshing,
      maxAttempts: 1,
      requestHandler: handler,
      ...withEndpoint(endpoint),
    });
    return { client, batcher: new RegionBatcher(client, sdk, endpoint) };
  });
  // Whether DescribeSecret is allowed is a matter of the identity's policy: learnt once per session.
  const describeAccess = new DescribeAccess();

  return {
    consumedEnv: source.consumedEnv,
    batchSize: BATCH_LIMIT,
    async fetch(ref: Ref, signal: AbortSignal): Promise<Fetched> {
      const what = ref.locator;
      const { client, batcher } = clients.get(regionFor(ref, defaultRegion));
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
              endpoint,
            );
      return toFetched(value, what);
    },
    async checkVersion(ref: Ref, signal: AbortSignal): Promise<string | undefined> {
      const { client } = clients.get(regionFor(ref, defaultRegion));
      return checkVersion({ client, sdk, access: describeAccess, log: ctx.log, endpoint }, ref, signal);
    },
    close(): Promise<void> {
      for (const { client } of clients.all()) client.destroy();
      handler.httpsAgent.destroy();
      restoreEnv();
      return Promise.resolve();
    },
  };
}
