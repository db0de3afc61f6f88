// The login sent before node-vault and axios are loaded (issue #17): AppRole (a SecretID given as a
// value or a file, or none), Kubernetes and JWT are one POST each, which leaves while the SDK loads.
// Its answer is handed to the transport as the answer to node-vault's own login request (transport.ts),
// so login.ts and errors.ts read a refusal, a body or a failure exactly as they do without it. A token
// needs no login, and a response-wrapped SecretID must be unwrapped first (unwrap.ts): those, like any
// later login (a retry, a re-login), take today's path.
import { VERSION } from "../../src/provider-api.ts";
import { BodyBroken, sendEarly, type RawResponse } from "../kit/early-request.ts";
import { readSource } from "./credentials.ts";
import type { ProviderContext } from "../../src/provider-api.ts";
import type { Settings } from "./settings.ts";
import { MAX_RESPONSE_BYTES, type Agents } from "./transport.ts";

/** A request already sent, and the one node-vault will ask for that it answers. */
export interface EarlyAnswer {
  readonly method: string;
  readonly uri: string;
  readonly response: Promise<RawResponse>;
  /** Settles when the login is on the wire (or failed): connect.ts loads the SDK after that. */
  readonly sent: Promise<void>;
}

/** The login URI node-vault builds for `mount` (connect.ts gives it this endpoint, no path prefix). */
function loginUri(settings: Settings, mount: string): string {
  return `${endpointOf(settings)}/v1/auth/${mount}/login`;
}

export function endpointOf(settings: Settings): string {
  return `${settings.url.origin}${settings.url.pathname.replace(/\/+$/, "")}`;
}

/** The body node-vault sends for this login (the request schema's keys, in its order), or undefined. */
function loginBody(settings: Settings, ctx: ProviderContext): Record<string, string> | undefined {
  const auth = settings.auth;
  switch (auth.method) {
    case "token":
      return undefined;
    case "approle": {
      if (auth.secretId?.kind === "wrapped") return undefined;
      const roleId = readSource(auth.roleId, "role_id", ctx);
      const secretId = auth.secretId === undefined ? undefined : readSource(auth.secretId, "secret_id", ctx);
      return secretId === undefined ? { role_id: roleId } : { role_id: roleId, secret_id: secretId };
    }
    case "kubernetes":
    case "jwt":
      return { role: auth.role, jwt: readSource(auth.jwt, "JWT", ctx) };
  }
}

/**
 * Sends the login now when the method is one request, or does nothing (undefined). Reading the
 * credential fails as login.ts's read would (the same message), only earlier.
 */
export function startEarlyLogin(
  settings: Settings,
  agents: Agents,
  ctx: ProviderContext,
  signal: AbortSignal,
): EarlyAnswer | undefined {
  const auth = settings.auth;
  // node-vault writes the mount into the URI through a template that escapes these: no early login
  // for such a mount, so the two URIs are always the same string.
  if (auth.method === "token" || !/^[\w./-]+$/.test(auth.mount)) return undefined;
  const body = loginBody(settings, ctx);
  if (body === undefined) return undefined;
  const uri = loginUri(settings, auth.mount);
  const url = new URL(uri);
  const { answer, sent } = sendEarly({
    method: "POST",
    url,
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json",
      "X-Vault-Request": "true",
      "User-Agent": `secretwrap/${VERSION}`,
      ...(settings.namespace === undefined ? {} : { "X-Vault-Namespace": settings.namespace }),
    },
    body: JSON.stringify(body),
    agent: url.protocol === "https:" ? agents.httpsAgent : agents.httpAgent,
    signal,
    maxBytes: MAX_RESPONSE_BYTES,
  });
  return { method: "POST", uri, response: answer.catch(asAxiosWouldSay), sent };
}

/**
 * A body cut off mid-way, in axios's words (its code for it), so that errors.ts gives the same message
 * as when axios met it; every other failure is Node's own error, as axios passes it on.
 */
function asAxiosWouldSay(error: unknown): never {
  if (error instanceof BodyBroken)
    throw Object.assign(new Error("stream has been aborted", { cause: error.cause }), {
      code: "ERR_BAD_RESPONSE",
    });
  throw error;
}
