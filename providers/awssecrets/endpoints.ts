// Endpoints and TLS: the Secrets Manager and STS endpoints (block, AWS_ENDPOINT_URL_*), and the HTTPS
// agent every SDK client shares (verified TLS, the extra CA of caFile or AWS_CA_BUNDLE, the timeouts).
import type { Agent } from "node:https";
import { httpsAgent } from "../kit/agents.ts";
import { checkEndpoint } from "../kit/endpoint.ts";
import { trustExtraCa } from "../kit/extra-ca.ts";
import type { Env } from "../kit/env-values.ts";
import { truthy } from "./env.ts";
import { NAME, type AwsOptions } from "./options.ts";

export function endpointFor(
  configured: string | undefined,
  env: Env,
  variable: string,
  allowHttp: boolean,
): string | undefined {
  const ignoreEnv = truthy(env["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"]);
  const raw = configured ?? (ignoreEnv ? undefined : (env[variable] ?? env["AWS_ENDPOINT_URL"]));
  if (raw === undefined || raw === "") return undefined;
  // Credential-bearing (signed) requests: plain http only to loopback unless allowHttp.
  return checkEndpoint(raw, NAME, allowHttp).href.replace(/\/$/, "");
}

export function withEndpoint(endpoint: string | undefined): { endpoint?: string } {
  return endpoint === undefined ? {} : { endpoint };
}

export interface HandlerOptions {
  readonly httpsAgent: Agent;
  readonly requestTimeout: number;
  readonly connectionTimeout: number;
}

export function requestHandlerOptions(options: AwsOptions, env: Env, timeoutMs: number): HandlerOptions {
  const caPath = options.caFile ?? env["AWS_CA_BUNDLE"];
  const ca = trustExtraCa(caPath === "" ? undefined : caPath, NAME);
  return { httpsAgent: httpsAgent(ca), requestTimeout: timeoutMs, connectionTimeout: timeoutMs };
}
