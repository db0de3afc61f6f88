// Endpoints and TLS: a service's and STS's endpoints (block, AWS_ENDPOINT_URL_*), and the HTTPS
// agent every SDK client of a session shares (verified TLS, the extra CA of caFile or AWS_CA_BUNDLE,
// the timeouts). `provider` names the provider in messages.
import type { Agent } from "node:https";
import { httpsAgent } from "../agents.ts";
import { checkEndpoint } from "../endpoint.ts";
import { trustExtraCa } from "../extra-ca.ts";
import type { Env } from "../env-values.ts";
import { truthy } from "./env.ts";
import type { AwsOptions } from "./options.ts";

export function endpointFor(
  provider: string,
  configured: string | undefined,
  env: Env,
  variable: string,
  allowHttp: boolean,
): string | undefined {
  const ignoreEnv = truthy(env["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"]);
  const raw = configured ?? (ignoreEnv ? undefined : (env[variable] ?? env["AWS_ENDPOINT_URL"]));
  if (raw === undefined || raw === "") return undefined;
  // Credential-bearing (signed) requests: plain http only to loopback unless allowHttp.
  return checkEndpoint(raw, provider, allowHttp).href.replace(/\/$/, "");
}

export function withEndpoint(endpoint: string | undefined): { endpoint?: string } {
  return endpoint === undefined ? {} : { endpoint };
}

export interface HandlerOptions {
  readonly httpsAgent: Agent;
  readonly requestTimeout: number;
  readonly connectionTimeout: number;
}

export function requestHandlerOptions(
  provider: string,
  options: AwsOptions,
  env: Env,
  timeoutMs: number,
): HandlerOptions {
  const caPath = options.caFile ?? env["AWS_CA_BUNDLE"];
  const ca = trustExtraCa(caPath === "" ? undefined : caPath, provider);
  return { httpsAgent: httpsAgent(ca), requestTimeout: timeoutMs, connectionTimeout: timeoutMs };
}
