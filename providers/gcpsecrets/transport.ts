// Transport: the session's agents (extra CA, keep-alive) and the caller's abort signal, put on every
// request the auth client sends.
import { AsyncLocalStorage } from "node:async_hooks";
import type { Agent as HttpAgent } from "node:http";
import type { Agent as HttpsAgent } from "node:https";
import { httpAgent, httpsAgent } from "../kit/agents.ts";
import { checkEndpoint } from "../kit/endpoint.ts";
import { trustExtraCa } from "../kit/extra-ca.ts";
import { SecretwrapError } from "../../src/provider-api.ts";
import { NAME, type GcpOptions } from "./options.ts";

export interface Transport {
  readonly protocol: "http" | "https";
  readonly host: string | undefined;
  readonly port: number | undefined;
  /** For every request to the endpoint's protocol (https unless an http:// endpoint was allowed). */
  readonly agent: HttpAgent | HttpsAgent;
  /** For requests to http:// URLs (the metadata server; the endpoint itself when it is http://). */
  readonly plainAgent: HttpAgent;
  /**
   * The abort signal of the attempt a request belongs to, carried through the SDK's promise chain to
   * the session's interceptor (the SDK's calls take no signal of their own).
   */
  readonly attemptSignal: AsyncLocalStorage<AbortSignal>;
}

export function transportFor(options: GcpOptions): Transport {
  const ca = trustExtraCa(options.caFile, NAME);
  const url =
    options.endpoint === undefined ? undefined : baseUrl(options.endpoint, options.allowHttp ?? false);
  const https = url === undefined || url.protocol === "https:";
  const plainAgent = httpAgent();
  return {
    protocol: https ? "https" : "http",
    host: url?.hostname.replace(/^\[|\]$/g, ""),
    port: url === undefined ? undefined : url.port === "" ? (https ? 443 : 80) : Number(url.port),
    agent: https ? httpsAgent(ca) : plainAgent,
    plainAgent,
    attemptSignal: new AsyncLocalStorage(),
  };
}

/** The endpoint option: Google's REST client takes a host and port, so a path cannot be honoured. */
function baseUrl(endpoint: string, allowHttp: boolean): URL {
  const url = checkEndpoint(endpoint, NAME, allowHttp);
  if (url.pathname !== "/" || url.search !== "") {
    throw new SecretwrapError(
      "CONFIG_INVALID",
      `${NAME}: endpoint must be a base URL without a path (got ${url.origin}${url.pathname})`,
      {
        subject: { provider: NAME },
      },
    );
  }
  return url;
}

/**
 * Call options for one attempt: our timeout and no retry of gax's own (none on REST in gax 5; newer
 * versions retry, so it is switched off), so that the one retry layer, src/retry.ts, decides.
 */
export function singleAttempt(timeoutMs: number): {
  timeout: number;
  retry: { retryCodes: number[] };
  maxRetries: number;
} {
  return { timeout: timeoutMs, retry: { retryCodes: [] }, maxRetries: 0 };
}

interface GaxiosLikeConfig {
  agent?: unknown;
  signal?: AbortSignal;
  url?: unknown;
  redirect?: string;
}

export interface InterceptableClient {
  readonly transporter: {
    readonly interceptors: {
      readonly request: { add(i: { resolved: (c: GaxiosLikeConfig) => GaxiosLikeConfig }): void };
    };
  };
}

/**
 * Every request the auth client sends (API calls, token exchanges) uses our agent and the attempt's
 * signal, and follows no redirect.
 */
export function intercept(client: InterceptableClient, transport: Transport): void {
  client.transporter.interceptors.request.add({
    resolved(config) {
      const url =
        typeof config.url === "string" ? config.url : config.url instanceof URL ? config.url.href : "";
      config.agent = url.startsWith("http:") ? transport.plainAgent : transport.agent;
      // A redirect is an answer, never followed: node-fetch would send the Authorization header to
      // wherever Location points, another host or plain http included (docs/security.md).
      config.redirect = "manual";
      const signal = transport.attemptSignal.getStore();
      if (signal !== undefined)
        config.signal = config.signal === undefined ? signal : AbortSignal.any([config.signal, signal]);
      return config;
    },
  });
}
