// connect(): the AWS login every AWS provider shares (providers/kit/aws/login.ts), then one Secrets
// Manager client and batcher per region; fetch, checkVersion (describe.ts) and close.
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import {
  type Fetched,
  type ProviderContext,
  type Ref,
  type Session,
  commonJs,
} from "../../src/provider-api.ts";
import { ClientCache } from "../kit/client-cache.ts";
import { withEndpoint } from "../kit/aws/endpoints.ts";
import { type AwsLogin, type AwsProvider, connectAws } from "../kit/aws/login.ts";
import { profileRegion } from "../kit/aws/region.ts";
import { BATCH_LIMIT, RegionBatcher } from "./batcher.ts";
import { DescribeAccess, checkVersion } from "./describe.ts";
import { SECRETS_MANAGER } from "./errors.ts";
import { NAME, type AwsOptions } from "./options.ts";
import { getSingle, toFetched, type Sdk } from "./read.ts";
import { regionFor } from "./region.ts";

interface RegionClient {
  readonly client: SecretsManagerClient;
  readonly batcher: RegionBatcher;
}

const loadSdk = async (): Promise<Sdk> => commonJs(await import("@aws-sdk/client-secrets-manager"));

const SECRETS_MANAGER_PROVIDER: AwsProvider = {
  name: NAME,
  rules: SECRETS_MANAGER,
  endpointVariable: "AWS_ENDPOINT_URL_SECRETS_MANAGER",
  profileRegion: async (profile) => {
    const sdk = await loadSdk();
    return profileRegion((config) => new sdk.SecretsManagerClient(config), profile);
  },
  preload: () => void loadSdk().catch(() => undefined),
};

/** `options` passed the block's schema (options.ts) in the core. */
export function connect(options: AwsOptions, ctx: ProviderContext, signal: AbortSignal): Promise<Session> {
  return connectSecretsManager(options, ctx, signal, { early: true });
}

/**
 * The SDK client loads during the login (preload), after an early STS exchange has left.
 * `early: false` is today's path alone, for the tests that compare both paths' outcomes.
 */
export function connectSecretsManager(
  options: AwsOptions,
  ctx: ProviderContext,
  signal: AbortSignal,
  how: { readonly early: boolean },
): Promise<Session> {
  return connectAws(
    SECRETS_MANAGER_PROVIDER,
    options,
    ctx,
    signal,
    async (login) => open(await loadSdk(), login, ctx),
    how,
  );
}

function open(sdk: Sdk, login: AwsLogin, ctx: ProviderContext): Session {
  const { endpoint, defaultRegion } = login;
  const clients = new ClientCache<RegionClient>((region) => {
    const client = new sdk.SecretsManagerClient({
      region,
      credentials: login.credentials,
      maxAttempts: 1,
      requestHandler: login.handler,
      ...withEndpoint(endpoint),
    });
    return { client, batcher: new RegionBatcher(client, sdk, endpoint) };
  });
  // Whether DescribeSecret is allowed is a matter of the identity's policy: learnt once per session.
  const describeAccess = new DescribeAccess();

  return {
    consumedEnv: login.consumedEnv,
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
      login.close();
      return Promise.resolve();
    },
  };
}
