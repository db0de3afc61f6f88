// What every AWS provider does to connect, once per run: refuse SDK files that are not regular files,
// the HTTPS agent (CA file, timeouts), the service's endpoint, the default region, and credentials in
// the SDK's default-chain order (an aborted login closes their requests), masked and refreshed before
// they expire. The provider then makes its clients with `login.credentials` and `login.handler`.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { ProviderContext, Session } from "../../../src/provider-api.ts";
import { refuseIfNotRegularFile } from "../credential-file.ts";
import { nonEmpty } from "../env-values.ts";
import { connectWithProcessEnv } from "../process-env.ts";
import { mapCredentialError } from "./credential-errors.ts";
import { pickCredentialSource, type AwsCredentialIdentity } from "./credentials.ts";
import { endpointFor, requestHandlerOptions, type HandlerOptions } from "./endpoints.ts";
import type { AwsService } from "./errors.ts";
import { quietLogger } from "./logger.ts";
import type { AwsOptions } from "./options.ts";
import { refreshingCredentials } from "./refresh.ts";
import { startEarlyWebIdentity } from "./early-web-identity.ts";

/** What an AWS provider tells the shared login about itself. */
export interface AwsProvider {
  /** Its scheme, for messages. */
  readonly name: string;
  readonly rules: AwsService;
  /** The service's own endpoint variable (AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL_SSM). */
  readonly endpointVariable: string;
  /** The region of a shared config profile, as the SDK finds it (profileRegion in region.ts). */
  readonly profileRegion: (profile: string | undefined) => Promise<string | undefined>;
  /**
   * Starts loading the service's SDK client, called once an early STS exchange is on the wire (or at
   * once without one), so that it loads while STS answers (early-web-identity.ts).
   */
  readonly preload?: () => void;
}

export interface AwsLogin {
  readonly handler: HandlerOptions;
  /** The service's configured endpoint (undefined: the SDK's default), also named in network failures. */
  readonly endpoint: string | undefined;
  /** For references that name no region of their own. */
  readonly defaultRegion: string | undefined;
  /** Keys for every request: the login's, renewed before they expire. */
  readonly credentials: () => Promise<AwsCredentialIdentity>;
  readonly consumedEnv: readonly string[];
  /** Closes the agent and puts back process.env: the session's close calls it after its clients'. */
  readonly close: () => void;
}

/** The files the SDK opens itself: each must be a regular file (or absent) before it is asked. */
const SDK_FILES = [
  "AWS_SHARED_CREDENTIALS_FILE",
  "AWS_CONFIG_FILE",
  "AWS_WEB_IDENTITY_TOKEN_FILE",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
] as const;

function refuseSdkFiles(env: ProviderContext["env"], provider: string): void {
  const home = nonEmpty(env["HOME"]) ?? homedir();
  const defaults: Record<string, string> = {
    AWS_SHARED_CREDENTIALS_FILE: join(home, ".aws", "credentials"),
    AWS_CONFIG_FILE: join(home, ".aws", "config"),
  };
  for (const name of SDK_FILES) {
    const path = nonEmpty(env[name]) ?? defaults[name];
    if (path !== undefined) refuseIfNotRegularFile(path, provider, `the file of ${name}`);
  }
}

/** Logs in for `provider`, then `open` makes the session (a failed open undoes the login's env change). */
export async function connectAws(
  provider: AwsProvider,
  options: AwsOptions,
  ctx: ProviderContext,
  signal: AbortSignal,
  open: (login: AwsLogin) => Promise<Session>,
  /** `early: false` is today's path alone, for the tests that compare both paths' outcomes. */
  how: { readonly early: boolean } = { early: true },
): Promise<Session> {
  refuseSdkFiles(ctx.env, provider.name);
  // The SDK warns on stderr about Node < 22 from every client constructor, unless this variable says
  // not to (it takes no option); the user gets nothing from that warning in an ENTRYPOINT.
  return connectWithProcessEnv(
    { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    async (restoreEnv) => open(await login(provider, options, ctx, signal, restoreEnv, how.early)),
  );
}

async function login(
  provider: AwsProvider,
  options: AwsOptions,
  ctx: ProviderContext,
  signal: AbortSignal,
  restoreEnv: () => void,
  earlyLogin: boolean,
): Promise<AwsLogin> {
  const env = ctx.env;
  const logger = quietLogger(ctx);
  const handler = requestHandlerOptions(provider.name, options, env, ctx.attemptTimeoutMs);
  const givenRegion = options.region ?? nonEmpty(env["AWS_REGION"]) ?? nonEmpty(env["AWS_DEFAULT_REGION"]);
  // Web identity's STS exchange leaves before the SDK loads (early-web-identity.ts); the SDK loads
  // once it is on the wire.
  const early = earlyLogin
    ? startEarlyWebIdentity(provider.name, options, env, givenRegion, handler, ctx.addSecret, signal)
    : undefined;
  await early?.sent;
  provider.preload?.();
  const endpoint = endpointFor(
    provider.name,
    options.endpoint,
    env,
    provider.endpointVariable,
    options.allowHttp === true,
  );
  const profile = options.profile ?? env["AWS_PROFILE"];
  const defaultRegion = givenRegion ?? (await provider.profileRegion(profile));

  const source = await pickCredentialSource({
    provider: provider.name,
    rules: provider.rules,
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
    const earlyAnswer = source.kind === "web identity" ? await early?.answer : undefined;
    signal.throwIfAborted();
    if (earlyAnswer instanceof Error) throw earlyAnswer;
    credentials = earlyAnswer ?? (await source.provider());
  } catch (error) {
    throw mapCredentialError(error, source.kind, provider.rules, false, source.endpoint);
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
  ctx.log.debug("AWS credentials obtained", { provider: provider.name, source: source.kind });

  const refreshing = refreshingCredentials(
    credentials,
    () =>
      source
        .provider()
        .catch((error: unknown) =>
          Promise.reject(mapCredentialError(error, source.kind, provider.rules, false, source.endpoint)),
        ),
    mask,
  );
  return {
    handler,
    endpoint,
    defaultRegion,
    credentials: refreshing,
    consumedEnv: source.consumedEnv,
    close() {
      handler.httpsAgent.destroy();
      restoreEnv();
    },
  };
}
