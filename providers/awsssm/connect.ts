// connect(): the AWS login every AWS provider shares (providers/kit/aws/login.ts), then one SSM client
// per region with two GetParameters batchers (values, decrypted; versions for --watch, not); fetch,
// checkVersion and close.
import type { SSMClient } from "@aws-sdk/client-ssm";
import {
  type Fetched,
  type ProviderContext,
  type Ref,
  type Session,
  commonJs,
} from "../../src/provider-api.ts";
import { withEndpoint } from "../kit/aws/endpoints.ts";
import { type AwsLogin, type AwsProvider, connectAws } from "../kit/aws/login.ts";
import { profileRegion, requireRegion } from "../kit/aws/region.ts";
import type { TurnBatcher } from "../kit/turn-batch.ts";
import { ClientCache } from "../kit/client-cache.ts";
import { readByPath } from "./by-path.ts";
import { SSM } from "./errors.ts";
import { NAME, type AwsOptions } from "./options.ts";
import { BATCH_LIMIT, parameterBatcher, requestedName, toFetched, type Sdk } from "./read.ts";
import { parameterName, readsPrefix } from "./reference.ts";
import type { Parameter } from "@aws-sdk/client-ssm";

interface RegionClient {
  readonly client: SSMClient;
  readonly values: TurnBatcher<Parameter>;
  readonly versions: TurnBatcher<Parameter>;
}

const loadSdk = async (): Promise<Sdk> => commonJs(await import("@aws-sdk/client-ssm"));

const SSM_PROVIDER: AwsProvider = {
  name: NAME,
  rules: SSM,
  endpointVariable: "AWS_ENDPOINT_URL_SSM",
  profileRegion: async (profile) => {
    const sdk = await loadSdk();
    return profileRegion((config) => new sdk.SSMClient(config), profile);
  },
  // The SDK loads during the login, after an early STS exchange has left (kit/aws/login.ts).
  preload: () => void loadSdk().catch(() => undefined),
};

const REGION_HINT = "add ?region=<region> to the reference, set AWS_REGION, or set providers.awsssm.region";

/** `options` passed the block's schema (options.ts) in the core. */
export function connect(options: AwsOptions, ctx: ProviderContext, signal: AbortSignal): Promise<Session> {
  return connectAws(SSM_PROVIDER, options, ctx, signal, async (login) => open(await loadSdk(), login));
}

function open(sdk: Sdk, login: AwsLogin): Session {
  const { endpoint } = login;
  const clients = new ClientCache<RegionClient>((region) => {
    const client = new sdk.SSMClient({
      region,
      credentials: login.credentials,
      maxAttempts: 1,
      requestHandler: login.handler,
      ...withEndpoint(endpoint),
    });
    return {
      client,
      values: parameterBatcher(client, sdk, true, endpoint),
      versions: parameterBatcher(client, sdk, false, endpoint),
    };
  });
  const clientFor = (ref: Ref): RegionClient =>
    clients.get(
      requireRegion(parameterName(ref.locator), ref.params["region"] ?? login.defaultRegion, REGION_HINT),
    );

  return {
    consumedEnv: login.consumedEnv,
    batchSize: BATCH_LIMIT,
    async fetch(ref: Ref, signal: AbortSignal): Promise<Fetched> {
      const { client, values } = clientFor(ref);
      const name = parameterName(ref.locator);
      if (readsPrefix(ref.params, ref.field)) {
        return readByPath({ client, sdk, endpoint }, name, ref.params["recursive"] === "true", signal);
      }
      return toFetched(await values.get(requestedName(name, ref.params["version"]), signal), name);
    },
    /**
     * The parameter's Version, from GetParameters without decryption (the permission a fetch needs
     * already, no KMS call; batched like fetches). The prefix form has no cheap check: the watch
     * reads the parameters again and compares the document.
     */
    async checkVersion(ref: Ref, signal: AbortSignal): Promise<string | undefined> {
      if (readsPrefix(ref.params, ref.field)) return undefined;
      const pinned = ref.params["version"];
      if (pinned !== undefined) return pinned;
      const name = parameterName(ref.locator);
      const { version } = toFetched(await clientFor(ref).versions.get(name, signal), name);
      return version;
    },
    close(): Promise<void> {
      for (const { client } of clients.all()) client.destroy();
      login.close();
      return Promise.resolve();
    },
  };
}
