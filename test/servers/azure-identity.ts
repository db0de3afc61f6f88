// Microsoft Entra ID and managed-identity token endpoints, as @azure/identity 4.13 / msal-node 5.6 call
// them (reference/protocols.md §4.4): the OpenID configuration and v2.0 token endpoint used by workload
// identity (federated assertion) and client secrets, the App Service endpoint (IDENTITY_ENDPOINT +
// X-IDENTITY-HEADER) and IMDS (/metadata/identity/oauth2/token/). Every token issued is recorded, so the
// vault side can check who presents it.
import { randomBytes } from "node:crypto";
import type { RecordedRequest, Reply } from "./harness.ts";

export const VAULT_RESOURCE = "https://vault.azure.net";
const VAULT_SCOPE = `${VAULT_RESOURCE}/.default`;

export interface IssuedToken {
  readonly tenantId: string;
  /** The client id (app registration or managed identity) the token was issued to. */
  readonly principal: string;
  readonly via: "workloadIdentity" | "clientSecret" | "appService" | "imds" | "azureCli";
}

/** The identities this fake tenant knows. Credentials are random per test: plant them as canaries. */
export interface IdentityState {
  tenantId: string;
  /** App registration used by workload identity and the client secret. */
  clientId: string;
  /** The projected service-account token the federated credential trusts (read from the token file). */
  federatedToken: string;
  clientSecret: string;
  /** App Service's IDENTITY_HEADER. */
  identityHeader: string;
  /** The system-assigned identity's client id; user-assigned ones are listed below. */
  systemAssignedClientId: string;
  userAssignedClientIds: string[];
  readonly tokens: Map<string, IssuedToken>;
}

export function newIdentityState(): IdentityState {
  return {
    tenantId: randomGuid(),
    clientId: randomGuid(),
    federatedToken: jwtShaped("fed"),
    clientSecret: `CANARY_SECRET_${randomBytes(12).toString("hex")}`,
    identityHeader: `CANARY_IDH_${randomBytes(12).toString("hex")}`,
    systemAssignedClientId: randomGuid(),
    userAssignedClientIds: [],
    tokens: new Map(),
  };
}

export function randomGuid(): string {
  const hex = randomBytes(16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Token-shaped random strings (eyJ…), so a canary scanner recognises leaks the way it would in production. */
export function jwtShaped(kind: string): string {
  const part = (o: object): string => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part({ alg: "RS256", typ: "JWT" })}.${part({ kind, nonce: randomBytes(16).toString("hex") })}.${randomBytes(32).toString("base64url")}`;
}

/** Records a token as issued by this tenant (the Azure CLI fake hands out one made this way). */
export function issue(
  state: IdentityState,
  token: Omit<IssuedToken, "tenantId"> & { tenantId?: string },
): string {
  const accessToken = jwtShaped("access");
  state.tokens.set(accessToken, {
    tenantId: token.tenantId ?? state.tenantId,
    principal: token.principal,
    via: token.via,
  });
  return accessToken;
}

function entraError(status: number, error: string, aadsts: number, description: string): Reply {
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${aadsts}: ${description} Trace ID: ${randomGuid()} Correlation ID: ${randomGuid()} Timestamp: ${new Date().toISOString()}`,
      error_codes: [aadsts],
      timestamp: new Date().toISOString(),
      trace_id: randomGuid(),
      correlation_id: randomGuid(),
    },
  };
}

/** `https://<authority host>`: OpenID discovery and the v2.0 token endpoint. */
export function entraHandler(state: IdentityState, baseUrl: () => string) {
  return (request: RecordedRequest): Reply => {
    const url = new URL(request.path, "https://placeholder");
    const [, tenant, ...rest] = url.pathname.split("/");
    const route = rest.join("/");
    if (tenant !== state.tenantId) {
      return entraError(400, "invalid_request", 90002, `Tenant '${tenant ?? ""}' not found.`);
    }
    const authority = `${baseUrl()}/${tenant}`;
    if (request.method === "GET" && route === "v2.0/.well-known/openid-configuration") {
      return {
        status: 200,
        body: {
          token_endpoint: `${authority}/oauth2/v2.0/token`,
          authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
          end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
          jwks_uri: `${baseUrl()}/${tenant}/discovery/v2.0/keys`,
          issuer: `${authority}/v2.0`,
          token_endpoint_auth_methods_supported: [
            "client_secret_post",
            "private_key_jwt",
            "client_secret_basic",
          ],
          response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
          subject_types_supported: ["pairwise"],
          id_token_signing_alg_values_supported: ["RS256"],
          scopes_supported: ["openid", "profile", "email", "offline_access"],
          tenant_region_scope: "EU",
        },
      };
    }
    if (request.method === "POST" && route === "oauth2/v2.0/token")
      return tokenGrant(state, new URLSearchParams(request.body));
    return { status: 404, body: { error: "not_found" } };
  };
}

function tokenGrant(state: IdentityState, form: URLSearchParams): Reply {
  if (form.get("grant_type") !== "client_credentials") {
    return entraError(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.");
  }
  if (form.get("client_id") !== state.clientId) {
    return entraError(
      400,
      "unauthorized_client",
      700016,
      "Application with identifier was not found in the directory.",
    );
  }
  if (form.get("scope") !== VAULT_SCOPE) {
    return entraError(
      400,
      "invalid_scope",
      70011,
      "The provided value for the input parameter 'scope' is not valid.",
    );
  }
  let via: IssuedToken["via"];
  const assertion = form.get("client_assertion");
  if (assertion !== null) {
    if (form.get("client_assertion_type") !== "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") {
      return entraError(400, "invalid_request", 900023, "Specified client_assertion_type is not supported.");
    }
    if (assertion !== state.federatedToken) {
      return entraError(
        400,
        "invalid_client",
        700213,
        "No matching federated identity record found for presented assertion subject.",
      );
    }
    via = "workloadIdentity";
  } else if (form.get("client_secret") !== null) {
    if (form.get("client_secret") !== state.clientSecret) {
      return entraError(401, "invalid_client", 7000215, "Invalid client secret provided.");
    }
    via = "clientSecret";
  } else {
    return entraError(
      401,
      "invalid_client",
      7000218,
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    );
  }
  return {
    status: 200,
    body: {
      token_type: "Bearer",
      expires_in: 3599,
      ext_expires_in: 3599,
      access_token: issue(state, { principal: state.clientId, via }),
    },
  };
}

/** App Service (`IDENTITY_ENDPOINT`, path /msi/token) and IMDS (`/metadata/identity/oauth2/token/`). */
export function managedIdentityHandler(state: IdentityState) {
  return (request: RecordedRequest): Reply => {
    const url = new URL(request.path, "http://placeholder");
    const query = url.searchParams;
    const expiresOn = String(Math.floor(Date.now() / 1000) + 3599);
    if (url.pathname === "/msi/token") {
      if (request.headers["x-identity-header"] !== state.identityHeader) {
        return {
          status: 401,
          body: { statusCode: 401, message: "Unauthorized: the X-IDENTITY-HEADER is missing or wrong." },
        };
      }
      if (query.get("api-version") !== "2019-08-01")
        return { status: 400, body: { statusCode: 400, message: "Unsupported api-version." } };
      const principal = principalFor(state, query.get("client_id"));
      if (principal === undefined)
        return {
          status: 400,
          body: { statusCode: 400, message: "No managed identity found for the client_id." },
        };
      const resource = query.get("resource") ?? "";
      return {
        status: 200,
        body: {
          access_token: issue(state, { principal, via: "appService" }),
          expires_on: expiresOn,
          resource,
          token_type: "Bearer",
          client_id: principal,
        },
      };
    }
    if (
      url.pathname === "/metadata/identity/oauth2/token/" ||
      url.pathname === "/metadata/identity/oauth2/token"
    ) {
      if (request.headers["metadata"] !== "true") {
        return {
          status: 400,
          body: { error: "invalid_request", error_description: "Required metadata header not specified" },
        };
      }
      const principal = principalFor(state, query.get("client_id"));
      if (principal === undefined)
        return { status: 400, body: { error: "invalid_request", error_description: "Identity not found" } };
      const now = Math.floor(Date.now() / 1000);
      return {
        status: 200,
        body: {
          access_token: issue(state, { principal, via: "imds" }),
          client_id: principal,
          expires_in: "3599",
          expires_on: expiresOn,
          ext_expires_in: "3599",
          not_before: String(now),
          resource: query.get("resource") ?? "",
          token_type: "Bearer",
        },
      };
    }
    return { status: 404, body: { error: "not_found" } };
  };
}

function principalFor(state: IdentityState, clientId: string | null): string | undefined {
  if (clientId === null) return state.systemAssignedClientId;
  return state.userAssignedClientIds.includes(clientId) ? clientId : undefined;
}
