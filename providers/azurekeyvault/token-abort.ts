// A pipeline policy that hands each of a credential's HTTP requests the abort signal of the token
// request it serves. The confidential-client flows of @azure/identity (client secret, workload
// identity) give MSAL's requests signals of their own and drop getToken's abortSignal: without this,
// an aborted login stops waiting but its request, and socket, stay open until the server answers.
// Not for managed identity: msal-node keeps the HTTP client of the process's first
// ManagedIdentityCredential for all later ones (a static), so a later connect's requests would read
// the first connect's signal, aborted long ago. Its requests are given up at the attempt's end, as before.
import type { AbortSignalLike, PipelinePolicy, TokenTraffic } from "./token-traffic.ts";

export function abortWithTokenRequest(traffic: TokenTraffic): PipelinePolicy {
  return {
    name: "secretwrapTokenAbort",
    sendRequest(request, next) {
      const signal = either(request.abortSignal, traffic.signal);
      if (signal !== undefined) request.abortSignal = signal;
      return next(request);
    },
  };
}

/** Aborted once either is (AbortSignal.any takes Node's own signals only; these may be lookalikes). */
function either(a: AbortSignalLike | undefined, b: AbortSignalLike | undefined): AbortSignalLike | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  const both = new AbortController();
  const abort = (): void => both.abort();
  for (const signal of [a, b]) {
    if (signal.aborted) abort();
    else signal.addEventListener("abort", abort, { once: true });
  }
  return both.signal;
}
