// A credential's failure → SecretwrapError: tenant mismatch, transport, transient (retried) or a
// refusal, with the HTTP status, OAuth code and AADSTS numbers but never Entra ID's description.
import { SecretwrapError } from "../../src/provider-api.ts";
import { clockSkewError } from "../kit/clock-skew.ts";
import { causeChain, firstText } from "../kit/cause-chain.ts";
import { isTransientStatus } from "../kit/http-status.ts";
import { isText, transportFailure, type ErrorLike } from "./errors.ts";
import { NAME, type ChosenMethod } from "./options.ts";
import type { TokenTraffic } from "./token-traffic.ts";

// OAuth 2.0 error codes that mean "try again" (RFC 6749 §5.2 and Entra ID's own).
const TRANSIENT_OAUTH = new Set(["temporarily_unavailable", "server_error", "network_error"]);
// Entra ID's "client assertion / assertion is not within its valid time range": the clock, never the
// credential (AADSTS700024 for a client assertion, AADSTS500133 for a federated token).
const CLOCK_AADSTS = new Set(["700024", "500133"]);

const TENANT_MISMATCH = /not configured to acquire tokens for tenant ([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)/;
// MSAL's server-error message starts "<oauth error>: Error(s): <AADSTS numbers> - …Description…";
// only the leading code and numbers are kept, never the description.
const MSAL_MESSAGE = /^(?:[A-Za-z]+: [A-Za-z ]+\. Message:? ?)?([a-z_]+): Error\(s\): ([0-9, ]+)?/;

export function credentialError(
  error: unknown,
  method: ChosenMethod,
  wire: TokenTraffic["last"],
): SecretwrapError {
  if (error instanceof SecretwrapError) return error;
  const errors = causeChain(error) as readonly ErrorLike[];
  const where = `${NAME}: ${method}`;
  const messages = errors.map((e) => (typeof e.message === "string" ? e.message : ""));
  const tenant = messages.map((m) => TENANT_MISMATCH.exec(m)).find((m) => m !== null);
  if (tenant !== undefined && tenant !== null) {
    return new SecretwrapError(
      "AUTH_FAILED",
      `${where}: the vault's challenge names tenant ${tenant[1] ?? "?"}, which this credential is not configured for`,
      {
        hint: "the vault belongs to another Microsoft Entra tenant: set AZURE_TENANT_ID (or auth.tenantId) to the vault's tenant, or list it in auth.additionallyAllowedTenants",
      },
    );
  }
  // @azure/identity often keeps only a message of MSAL's failure: the wire policy saw the socket's code.
  const seen = wire?.transportCode === undefined ? error : { code: wire.transportCode, cause: error };
  const transport = transportFailure(
    seen,
    errors.some((e) => e.name === "AbortError"),
    `${where}: token endpoint`,
    wire?.endpoint,
  );
  if (transport !== undefined) return transport;
  const status =
    wire?.status ?? errors.map((e) => e.status ?? e.statusCode).find((v) => typeof v === "number");
  const parsed = messages.map((m) => MSAL_MESSAGE.exec(m)).find((m) => m !== null) ?? undefined;
  const oauth = firstText(errors, "errorCode") ?? parsed?.[1];
  const numbers =
    parsed?.[2]
      ?.split(",")
      .map((n) => n.trim())
      .filter((n) => n !== "") ?? [];
  const detail = [
    status === undefined ? undefined : `HTTP ${status}`,
    oauth,
    ...numbers.map((n) => `AADSTS${n}`),
  ]
    .filter(Boolean)
    .join(", ");
  const skew = numbers.find((n) => CLOCK_AADSTS.has(n));
  if (skew !== undefined)
    return clockSkewError(`${where}: token endpoint`, `AADSTS${skew}`, { provider: NAME });
  if (
    (status !== undefined && isTransientStatus(status)) ||
    (oauth !== undefined && TRANSIENT_OAUTH.has(oauth))
  ) {
    return new SecretwrapError("FETCH_FAILED", `${where}: the token endpoint is unavailable (${detail})`, {
      transient: true,
      ...(wire?.retryAfterMs === undefined ? {} : { retryAfterMs: wire.retryAfterMs }),
    });
  }
  const kind = isText(errors[0]?.name) ? errors[0].name : "error";
  return new SecretwrapError(
    "AUTH_FAILED",
    `${where} could not get a token (${detail === "" ? kind : detail})`,
    { hint: HINTS[method] },
  );
}

const HINTS: Readonly<Record<ChosenMethod, string>> = {
  workloadIdentity:
    "check the federated credential on the app registration or managed identity (issuer = the cluster's OIDC issuer, subject system:serviceaccount:<namespace>:<service-account>, audience api://AzureADTokenExchange) and AZURE_CLIENT_ID / AZURE_TENANT_ID",
  clientSecret: "check AZURE_TENANT_ID, AZURE_CLIENT_ID and that the client secret is current",
  managedIdentity:
    "check that a managed identity is assigned to this VM/app/pod and, for a user-assigned one, that auth.clientId (or AZURE_CLIENT_ID) names it",
  azureCli: "run `az login` (and `az account set`) as the user secretwrap runs as",
  default:
    "see docs/providers/azurekeyvault.md#troubleshooting; prefer an explicit auth.method in production",
};
