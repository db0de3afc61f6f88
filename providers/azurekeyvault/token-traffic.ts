// A pipeline policy on the credential's requests that records what the token endpoint answered (and,
// for managed identity, the same policy wrapped round the HTTP client).
import { headerReader, retryAfterMs } from "../kit/retry-after.ts";

/**
 * What the token endpoint last answered. @azure/identity turns MSAL's failures into errors that keep
 * only a message, so the HTTP status (503 vs 400) is taken from the wire by a pipeline policy.
 */
export interface TokenTraffic {
  last: { status?: number; retryAfterMs?: number; transportCode?: string; endpoint?: string } | undefined;
  /** The abort signal of the token request in progress (getToken's): see token-abort.ts. */
  signal: AbortSignalLike | undefined;
}

export type AbortSignalLike = NonNullable<import("@azure/identity").GetTokenOptions["abortSignal"]>;

export type PipelinePolicy = NonNullable<
  import("@azure/identity").TokenCredentialOptions["additionalPolicies"]
>[number]["policy"];
type HttpClient = NonNullable<import("@azure/identity").TokenCredentialOptions["httpClient"]>;

export function observeTokenTraffic(traffic: TokenTraffic): PipelinePolicy {
  return {
    name: "secretwrapTokenTraffic",
    async sendRequest(request, next) {
      try {
        const response = await next(request);
        const wait = retryAfterMs(headerReader(response.headers));
        traffic.last = { status: response.status, ...(wait === undefined ? {} : { retryAfterMs: wait }) };
        return response;
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        // The origin names the endpoint in the message (never its path or query).
        const endpoint = URL.canParse(request.url) ? new URL(request.url).origin : undefined;
        traffic.last = {
          ...(typeof code === "string" ? { transportCode: code } : {}),
          ...(endpoint === undefined ? {} : { endpoint }),
        };
        throw error;
      }
    },
  };
}

/**
 * The same policy, as the HttpClient of a ManagedIdentityCredential. That credential replaces
 * additionalPolicies with its own IMDS retry policy, and MSAL then reports any socket failure as
 * "network_error" without the Node code: without this, DNS failure, refused and reset at IMDS or the
 * App Service endpoint could not be told apart (R18). The client is the one place every request of
 * the credential passes that its options still reach. The real HTTP stays core-rest-pipeline's
 * default client (the one the SDK uses without this), with the pipeline's TLS settings and abort.
 */
export function observingHttpClient(traffic: TokenTraffic): HttpClient {
  const policy = observeTokenTraffic(traffic);
  // Imported on first use: @azure/identity has loaded the module by then, so this costs nothing.
  let client: Promise<HttpClient> | undefined;
  return {
    async sendRequest(request) {
      client ??= import("@azure/core-rest-pipeline").then((pipeline) => pipeline.createDefaultHttpClient());
      const http = await client;
      return policy.sendRequest(request, (sent) => http.sendRequest(sent));
    },
  };
}
