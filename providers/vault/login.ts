// Logging in: a static token is just read; AppRole, Kubernetes and JWT logins read their credential
// (from its file, at every attempt) and trade it for a client token. Used once per run, and again when
// Vault rejects the token mid-run or --watch must replace a token it cannot renew (session.ts).
import type NodeVault from "node-vault";
import { type ProviderContext, SecretwrapError } from "../../src/provider-api.ts";
import { readSource } from "./credentials.ts";
import { mapError } from "./errors.ts";
import { PROVIDER } from "./options.ts";
import type { AuthSettings, Settings } from "./settings.ts";
import type { CallInfo } from "./transport.ts";
import type { SecretIds } from "./unwrap.ts";

export type Client = NodeVault.client;

interface AuthBody {
  readonly auth?: {
    readonly client_token?: unknown;
    readonly accessor?: unknown;
    readonly lease_duration?: unknown;
    readonly renewable?: unknown;
  } | null;
}

/** What a login granted the token: its TTL in seconds (0: it never expires) and whether renew-self may extend it. */
export interface TokenGrant {
  readonly durationSec: number;
  readonly renewable: boolean;
}

function authPath(auth: Exclude<AuthSettings, { method: "token" }>): string {
  return `auth/${auth.mount}/login`;
}

export async function login(
  client: Client,
  settings: Settings,
  ctx: ProviderContext,
  secretIds: SecretIds,
  signal: AbortSignal,
): Promise<TokenGrant | undefined> {
  const auth = settings.auth;
  if (auth.method === "token") {
    // A static token's lifetime is not known without a lookup, which only --watch asks for (token.ts).
    client.token = readSource(auth.token, "token", ctx);
    return undefined;
  }
  const call: CallInfo = {};
  const errorContext = {
    stage: "login" as const,
    path: authPath(auth),
    origin: settings.url.origin,
    login: auth,
    call,
  };
  let response: AuthBody;
  if (auth.method === "approle") {
    const roleId = readSource(auth.roleId, "role_id", ctx);
    const secretId =
      auth.secretId === undefined
        ? undefined
        : await secretIds.from(auth.secretId, client, settings, auth, ctx, signal);
    response = (await client
      .approleLogin({
        role_id: roleId,
        ...(secretId === undefined ? {} : { secret_id: secretId }),
        mount_point: auth.mount,
        requestOptions: { signal, call },
      })
      .catch((error: unknown) => Promise.reject(mapError(error, errorContext)))) as AuthBody;
  } else {
    const jwt = readSource(auth.jwt, "JWT", ctx);
    const args = { role: auth.role, jwt, mount_point: auth.mount, requestOptions: { signal, call } };
    const pending = auth.method === "kubernetes" ? client.kubernetesLogin(args) : client.jwtLogin(args);
    response = (await pending.catch((error: unknown) =>
      Promise.reject(mapError(error, errorContext)),
    )) as AuthBody;
  }
  const token = response.auth?.client_token;
  if (typeof token !== "string" || token === "") {
    throw new SecretwrapError(
      "AUTH_FAILED",
      `${auth.method} login at ${authPath(auth)} returned no client token`,
      { subject: { provider: PROVIDER } },
    );
  }
  ctx.addSecret(token);
  if (typeof response.auth?.accessor === "string") ctx.addSecret(response.auth.accessor);
  client.token = token;
  const duration = response.auth?.lease_duration;
  return {
    durationSec: typeof duration === "number" && duration > 0 ? duration : 0,
    renewable: response.auth?.renewable === true,
  };
}
