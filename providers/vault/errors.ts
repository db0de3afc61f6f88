// Errors: node-vault and axios failures → SecretwrapError. A message never quotes a response body or
// an SDK message (they can echo requests); only statuses, error codes and the Vault error phrases
// recognised below, each replaced by our own constant text.
import { type ErrorCode, MAX_SECRET_BYTES, SecretwrapError } from "../../src/provider-api.ts";
import { isTransientStatus } from "../kit/http-status.ts";
import { ResponseTooLarge } from "../kit/early-request.ts";
import { networkError } from "../kit/network-failure.ts";
import { PROVIDER, type AuthMethod } from "./options.ts";
import type { AuthSettings } from "./settings.ts";
import { MAX_RESPONSE_BYTES, NotJson, RedirectRefused, type CallInfo } from "./transport.ts";

const KNOWN_PHRASES: readonly (readonly [RegExp, string])[] = [
  [/invalid role or secret id/i, "invalid role or secret ID"],
  [/wrapping token is not valid or does not exist/i, "wrapping token is not valid or does not exist"],
  [/invalid token/i, "invalid token"],
  [/permission denied/i, "permission denied"],
  [/vault is sealed/i, "Vault is sealed"],
  [/no active vault instance/i, "no active Vault instance found"],
  [/node is not active/i, "node is not active"],
  [/rate limit quota exceeded/i, "rate limit quota exceeded"],
  // Lease and token renewal refusals (sys/leases/renew, auth/token/renew-self); before /expired/.
  [/lease is not renewable/i, "lease is not renewable"],
  [/invalid lease id/i, "invalid lease ID"],
  [/lease not found/i, "lease not found"],
  [/lease expired/i, "lease expired"],
  [/past the max ttl/i, "past its max TTL"],
  [/missing role_id/i, "missing role_id"],
  [/missing secret_id/i, "missing secret_id"],
  [/invalid role name|role .* could not be found|role not found/i, "unknown role"],
  [/expired/i, "the JWT is expired"],
  [/error validating (token|claims)/i, "the JWT was rejected (signature, audience or claims)"],
  [/not authorized/i, "service account or namespace not authorized for this role"],
];

function vaultPhrase(body: unknown): string | undefined {
  const errors = (body as { errors?: unknown } | null | undefined)?.errors;
  if (!Array.isArray(errors)) return undefined;
  const joined = errors.filter((e): e is string => typeof e === "string").join(" ");
  for (const [pattern, phrase] of KNOWN_PHRASES) if (pattern.test(joined)) return phrase;
  return undefined;
}

/** lifecycle: renewing or revoking a lease or the token, for --watch (its action names it). */
export type Stage = "login" | "unwrap" | "preflight" | "read" | "revoke" | "lifecycle";

interface Failure {
  readonly status?: number;
  readonly body?: unknown;
  readonly code?: string;
  readonly redirect?: string;
  readonly notJson?: NotJson;
}

/**
 * Vault rejected the token itself (403 "invalid token": expired or revoked) while reading. A session
 * that logged in with a method (not a static token) may log in again once and retry.
 */
export class TokenRejected extends SecretwrapError {
  constructor(path: string) {
    super("AUTH_FAILED", `Vault rejected the token (403, invalid token: expired or revoked) at ${path}`, {
      subject: { provider: PROVIDER },
      hint: "log in again with a valid token; with VAULT_TOKEN, issue a new one",
    });
    this.name = "TokenRejected";
  }
}

export function describeFailure(error: unknown): Failure {
  if (error instanceof RedirectRefused) return { redirect: error.target };
  if (error instanceof NotJson) return { notJson: error };
  const response = (error as { response?: { statusCode?: unknown; body?: unknown } } | null)?.response;
  if (response !== undefined && typeof response.statusCode === "number")
    return { status: response.statusCode, body: response.body };
  const code = (error as { code?: unknown } | null)?.code;
  // axios's own wording (never a server's) is the only way to tell its size limit from a cut-off body.
  if (code === "ERR_BAD_RESPONSE" && /maxContentLength/.test((error as Error).message))
    return { code: "TOO_LARGE" };
  if (typeof code === "string") return { code };
  // The early login's own size limit (providers/kit/early-request.ts), the same rule as axios's.
  if (error instanceof ResponseTooLarge) return { code: "TOO_LARGE" };
  return {};
}

export interface ErrorContext {
  readonly stage: Stage;
  /** The API path (without /v1), never a value. */
  readonly path: string;
  readonly origin: string;
  readonly login?: AuthSettings;
  readonly call?: CallInfo;
  /** What was being done, for the message when the path alone does not say it ("renewing the lease …"). */
  readonly action?: string;
}

type Make = (code: ErrorCode, message: string, extra?: { hint?: string }) => SecretwrapError;

export function mapError(error: unknown, ctx: ErrorContext): SecretwrapError {
  if (error instanceof SecretwrapError) return error;
  const failure = describeFailure(error);
  const make = (
    code: ErrorCode,
    message: string,
    extra: { hint?: string; transient?: boolean; retryAfterMs?: number } = {},
  ): SecretwrapError => new SecretwrapError(code, message, { subject: { provider: PROVIDER }, ...extra });
  if (failure.redirect !== undefined) {
    return make(
      "FETCH_FAILED",
      `Vault at ${ctx.origin} redirected ${ctx.path} to ${failure.redirect}; not followed, so the token stays with ${ctx.origin}`,
      {
        hint: "set the address to the active node or to a load balancer in front of the cluster (a standby redirects to the active node's api_addr)",
      },
    );
  }
  if (failure.notJson !== undefined) {
    // Truncated by a reset or a proxy, or a proxy's own page: the next attempt may get the real answer.
    const { status, contentType, bytes } = failure.notJson;
    return make(
      "FETCH_FAILED",
      `Vault answered ${status} for ${ctx.action ?? `${ctx.stage === "login" || ctx.stage === "unwrap" ? "" : "reading "}${ctx.path}`} with a body that is not a JSON object (content-type "${contentType || "none"}", ${bytes} bytes; not shown)`,
      {
        transient: true,
        hint: "something between secretwrap and Vault (a proxy, a load balancer) may be answering instead of Vault; secretwrap retries until --timeout",
      },
    );
  }
  if (failure.status === undefined) return transportError(error, failure.code, ctx, make);
  const status = failure.status;
  const phrase = vaultPhrase(failure.body);
  const said = phrase === undefined ? "" : ` (${phrase})`;
  const where =
    ctx.action ?? `${ctx.stage === "login" || ctx.stage === "unwrap" ? "" : "reading "}${ctx.path}`;
  // 412: a performance standby that has not caught up with a write yet (Vault Enterprise).
  if (status === 412 || isTransientStatus(status)) {
    const retryAfterMs = ctx.call?.retryAfterMs;
    return make("FETCH_FAILED", `Vault answered ${status}${said} for ${where}`, {
      transient: true,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      hint:
        phrase === "Vault is sealed"
          ? "unseal Vault (or wait for auto-unseal); secretwrap retries until --timeout"
          : "Vault is unavailable or throttling; secretwrap retries until --timeout",
    });
  }
  if (status === 403 && phrase === "invalid token" && (ctx.stage === "read" || ctx.stage === "preflight")) {
    return new TokenRejected(ctx.path);
  }
  switch (ctx.stage) {
    case "login":
    case "unwrap":
      return loginError(status, said, phrase, ctx, make);
    case "preflight":
      if (status === 403) {
        return make(
          "ACCESS_DENIED",
          `Vault refused the mount lookup for ${ctx.path.replace(/^sys\/internal\/ui\/mounts\//, "")} (403${said})`,
          {
            hint: "the mount does not exist, or the token's policies grant nothing under it; check the reference's mount and the policy",
          },
        );
      }
      break;
    case "read":
      if (status === 403) {
        return make("ACCESS_DENIED", `permission denied reading ${ctx.path} (403)`, {
          hint: `grant the app's policy: path "${ctx.path}" { capabilities = ["read"] }`,
        });
      }
      if (status === 404) return make("SECRET_NOT_FOUND", `${ctx.path} does not exist (404)`);
      break;
    case "revoke":
    case "lifecycle":
      break;
  }
  return make("FETCH_FAILED", `Vault answered ${status}${said} for ${where}`);
}

/**
 * A lifecycle call (lease or token renewal, revocation, lookup) Vault answered with a refusal: 400 (no
 * such lease, lease or token not renewable) is final for this lease or token, so not retried; 403 (the
 * token is invalid, or its policy does not allow the call) is an authentication failure (77). Anything
 * else (5xx, network, timeouts) goes through mapError and is transient where a read would be.
 */
export function lifecycleError(
  error: unknown,
  ctx: ErrorContext & { readonly action: string; readonly refusedHint: string },
): SecretwrapError {
  if (error instanceof SecretwrapError) return error;
  const failure = describeFailure(error);
  const phrase = vaultPhrase(failure.body);
  const said = phrase === undefined ? "" : `, ${phrase}`;
  const subject = { provider: PROVIDER };
  if (failure.status === 400) {
    return new SecretwrapError("FETCH_FAILED", `Vault refused ${ctx.action} (400${said})`, {
      subject,
      hint: ctx.refusedHint,
    });
  }
  if (failure.status === 403) {
    return new SecretwrapError("AUTH_FAILED", `Vault refused ${ctx.action} (403${said})`, {
      subject,
      hint:
        phrase === "invalid token"
          ? "the token expired or was revoked; secretwrap logs in again where it can (not with a static token)"
          : `the token's policy must grant update on "${ctx.path}"`,
    });
  }
  return mapError(error, ctx);
}

/** The status when Vault refused the call itself (400 or 403), as opposed to failing to answer. */
export function refusal(error: unknown): 400 | 403 | undefined {
  const status = describeFailure(error).status;
  return status === 400 || status === 403 ? status : undefined;
}

function loginError(
  status: number,
  said: string,
  phrase: string | undefined,
  ctx: ErrorContext,
  make: Make,
): SecretwrapError {
  const auth = ctx.login;
  if (ctx.stage === "unwrap") {
    return make("AUTH_FAILED", `unwrapping the wrapped SecretID failed (${status}${said})`, {
      hint:
        phrase === "wrapping token is not valid or does not exist"
          ? "the wrapping token expired or was already used; if secretwrap did not use it, someone else may have unwrapped it: treat the SecretID as compromised and issue a new wrapped one"
          : "check the wrapping token file",
    });
  }
  if (status === 404 || status === 405) {
    return make("AUTH_FAILED", `no auth method answers at ${ctx.path} (${status})`, {
      hint: "check auth.mount (VAULT_AUTH_MOUNT): the path the auth method is enabled at",
    });
  }
  const hints: Record<AuthMethod, string> = {
    token: "check VAULT_TOKEN / the token file",
    approle:
      "check role_id and secret_id: a SecretID expires and can have a use limit; issue a new one with `vault write -f auth/<mount>/role/<role>/secret-id`",
    kubernetes:
      "check auth.role and that the role's bound_service_account_names / namespaces include this pod's service account",
    jwt: "check auth.role, and that the JWT is current (not expired) and matches the role's bound audiences and claims",
  };
  const method = auth?.method ?? "token";
  return make("AUTH_FAILED", `${method} login at ${ctx.path} failed (${status}${said})`, {
    hint: hints[method],
  });
}

function transportError(
  error: unknown,
  code: string | undefined,
  ctx: ErrorContext,
  make: Make,
): SecretwrapError {
  const what =
    ctx.action ??
    (ctx.stage === "login" || ctx.stage === "unwrap"
      ? `logging in at ${ctx.path}`
      : ctx.stage === "revoke"
        ? "revoking the token"
        : `reading ${ctx.path}`);
  const network = networkError(error, {
    where: `${PROVIDER}: ${what}`,
    endpoint: ctx.origin,
    subject: { provider: PROVIDER },
    fromMessage: true,
  });
  if (network !== undefined) return network;
  if (code === "TOO_LARGE") {
    return make(
      "FETCH_FAILED",
      `the answer from ${ctx.origin} while ${what} is larger than ${MAX_RESPONSE_BYTES} bytes`,
      {
        hint: `a secret may hold at most ${MAX_SECRET_BYTES} bytes`,
      },
    );
  }
  // Not a socket or TLS failure the kit knows: like every provider, not retried.
  return make(
    "FETCH_FAILED",
    `cannot reach Vault at ${ctx.origin} while ${what} (${code ?? "connection error"})`,
    { hint: "check VAULT_ADDR / address and that Vault is up" },
  );
}
