// connect(): options, the SDKs (loaded here), the shared credential, one SecretClient per vault, and
// the session's fetch.
import {
  type Fetched,
  type ProviderContext,
  type Ref,
  SecretwrapError,
  type Session,
} from "../../src/provider-api.ts";
import { ClientCache } from "../kit/client-cache.ts";
import { checkEndpoint } from "../kit/endpoint.ts";
import { trustExtraCa } from "../kit/extra-ca.ts";
import { ChallengeGate } from "./challenge-gate.ts";
import { buildCredential } from "./credential.ts";
import { chooseMethod } from "./method.ts";
import { NAME, type Options } from "./options.ts";
import { SharedCredential } from "./shared-credential.ts";
import type { TokenTraffic } from "./token-traffic.ts";
import { vaultError } from "./vault-errors.ts";
import { vaultUrlFor } from "./vault-url.ts";

type TlsSettings = NonNullable<import("@azure/identity").TokenCredentialOptions["tlsOptions"]>;

/** `options` passed the block's schema (options.ts) in the core. */
export async function connect(options: Options, ctx: ProviderContext, signal: AbortSignal): Promise<Session> {
  const auth = options.auth ?? {};
  // One SecureContext for every client and credential: an explicit `ca` list would make Node parse the
  // ~150 public roots again for each new connection. The SDK's agent options pass it on to tls.connect
  // (its TlsSettings type does not list it).
  const ca = trustExtraCa(options.caFile, NAME);
  const tlsOptions = ca === undefined ? {} : { tlsOptions: ca as TlsSettings };
  // Checked before the SDKs load: a bad URL is a config error whatever the credential.
  for (const url of [
    ...Object.values(options.vaultUrls ?? {}),
    ...(options.endpoint === undefined ? [] : [options.endpoint]),
  ]) {
    checkEndpoint(url, NAME, options.allowHttp ?? false);
  }
  const [{ SecretClient }, identity] = await Promise.all([
    import("@azure/keyvault-secrets"),
    import("@azure/identity"),
  ]);
  // Given up while the SDKs loaded: the caller has stopped waiting, so no one would close a session.
  signal.throwIfAborted();
  const method = chooseMethod(auth, ctx.env);
  ctx.log.debug("azurekeyvault credential", { method });
  const traffic: TokenTraffic = { last: undefined, signal: undefined };
  const built = buildCredential(identity, method, auth, ctx, tlsOptions, traffic);
  const credential = new SharedCredential(built.create, method, traffic, ctx.addSecret);
  const clients = new ClientCache((url) => {
    const gate = new ChallengeGate();
    const client = new SecretClient(url, credential, {
      retryOptions: { maxRetries: 0 },
      userAgentOptions: { userAgentPrefix: "secretwrap" },
      allowInsecureConnection: url.startsWith("http:"),
      disableChallengeResourceVerification: options.disableChallengeResourceVerification ?? false,
      additionalPolicies: [{ policy: gate.policy, position: "perRetry" }],
      ...tlsOptions,
    });
    return { client, gate };
  });
  // The token the vaults' challenges will ask for is requested now, alongside the first challenge
  // instead of after it (see SharedCredential.prefetch); it is only handed out once a challenge asks.
  // It is the login's request, so the login's signal ends it too (and closes its socket: token-abort.ts).
  const prefetch = new AbortController();
  if (built.early !== undefined) {
    credential.prefetch(
      `https://${options.dnsSuffix ?? "vault.azure.net"}/.default`,
      built.early.tenantId,
      AbortSignal.any([prefetch.signal, signal, AbortSignal.timeout(ctx.attemptTimeoutMs)]),
    );
  }
  return {
    consumedEnv: built.consumedEnv,
    async fetch(ref: Ref, signal: AbortSignal): Promise<Fetched> {
      const [vault = "", name = "", version] = ref.locator.split("/");
      const url = vaultUrlFor(vault, options);
      const { client, gate } = clients.get(url);
      let secret;
      try {
        secret = await gate.send(() =>
          client.getSecret(name, { abortSignal: signal, ...(version === undefined ? {} : { version }) }),
        );
      } catch (error) {
        throw vaultError(error, ref, url);
      }
      if (secret.value === undefined) {
        throw new SecretwrapError(
          "FETCH_FAILED",
          `${NAME}: secret ${name} in vault ${vault} came back without a value`,
        );
      }
      return {
        bytes: Buffer.from(secret.value, "utf8"),
        ...(secret.properties.version === undefined ? {} : { version: secret.properties.version }),
      };
    },
    close: () => {
      prefetch.abort();
      return Promise.resolve();
    },
  };
}
