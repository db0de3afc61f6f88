// A pipeline policy on the credential's requests that records what the token endpoint answered.
import { retryAfterMs } from "../kit/retry-after.ts";

/**
 * What the token endpoint last answered. @azure/identity turns MSAL's failures into errors that keep
 * only a message, so the HTTP status (503 vs 400) is taken from the wire by a pipeline policy.
 */
export interface TokenTraffic {
  last: { status?: number; retryAfterMs?: number; transportCode?: string; endpoint?: string } | undefined;
}

type PipelinePolicy = NonNullable<
  import("@azure/identity").TokenCredentialOptions["additionalPolicies"]
>[number]["policy"];

export function observeTokenTraffic(traffic: TokenTraffic): PipelinePolicy {
  return {
    name: "secretwrapTokenTraffic",
    async sendRequest(request, next) {
      try {
        const response = await next(request);
        const wait = retryAfterMs((name) => response.headers.get(name));
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
