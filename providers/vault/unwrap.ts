// AppRole SecretIDs delivered response-wrapped: look the wrapping token up first (it must have been
// created by this role's secret-id endpoint), then unwrap it, once.
import { type ProviderContext, SecretwrapError } from "../../src/provider-api.ts";
import { readSource } from "./credentials.ts";
import { mapError } from "./errors.ts";
import type { Client } from "./login.ts";
import { PROVIDER } from "./options.ts";
import type { AuthSettings, SecretIdSource, Settings } from "./settings.ts";
import type { CallInfo } from "./transport.ts";

/**
 * A run's SecretIDs: wrapping tokens are single-use, so a login retried after a successful unwrap (a
 * new connect attempt, or the re-login after the token expired mid-run) reuses the SecretID its
 * wrapping token gave; another run (a test, a later run in the same process) unwraps its own token.
 * A session exists only once a login succeeded, so the run's SecretIds live in ctx.runState, which
 * outlives a failed attempt: `ctx.runState.get(SecretIds)`.
 */
export class SecretIds {
  readonly #unwrapped = new Map<string, string>();

  async from(
    source: SecretIdSource,
    client: Client,
    settings: Settings,
    auth: Extract<AuthSettings, { method: "approle" }>,
    ctx: ProviderContext,
    signal: AbortSignal,
  ): Promise<string> {
    if (source.kind !== "wrapped") return readSource(source, "secret_id", ctx);
    const wrappingToken = readSource({ kind: "file", path: source.path }, "wrapped secret_id", ctx);
    const known = this.#unwrapped.get(wrappingToken);
    if (known !== undefined) return known;
    const secretId = await unwrap(wrappingToken, client, settings, auth, signal);
    ctx.addSecret(secretId);
    this.#unwrapped.set(wrappingToken, secretId);
    return secretId;
  }
}

async function unwrap(
  wrappingToken: string,
  client: Client,
  settings: Settings,
  auth: Extract<AuthSettings, { method: "approle" }>,
  signal: AbortSignal,
): Promise<string> {
  const call: CallInfo = {};
  const errorContext = {
    stage: "unwrap" as const,
    path: "sys/wrapping/unwrap",
    origin: settings.url.origin,
    login: auth,
    call,
  };
  // Look first: a wrapping token that was not made by this AppRole's secret-id endpoint may be a
  // substitute (Vault's response-wrapping guidance), and must not be unwrapped and trusted.
  const lookup = (await client
    .write("sys/wrapping/lookup", { token: wrappingToken }, { signal, call })
    .catch((error: unknown) =>
      Promise.reject(mapError(error, { ...errorContext, path: "sys/wrapping/lookup" })),
    )) as { data?: { creation_path?: unknown } };
  const creationPath = lookup.data?.creation_path;
  const role = auth.role === undefined ? "[^/]+" : escapeRegExp(auth.role);
  const expected = new RegExp(`^auth/${escapeRegExp(auth.mount)}/role/${role}/(secret-id|custom-secret-id)$`);
  if (typeof creationPath !== "string" || !expected.test(creationPath)) {
    throw new SecretwrapError(
      "AUTH_FAILED",
      `the wrapped SecretID was not created by auth/${auth.mount}/role/${auth.role ?? "<role>"}/secret-id (creation path ${typeof creationPath === "string" ? creationPath.slice(0, 120) : "missing"}); not unwrapped`,
      {
        subject: { provider: PROVIDER },
        hint: "the wrapping token may have been replaced: investigate, then issue a new one with `vault write -wrap-ttl=… -f auth/<mount>/role/<role>/secret-id`",
      },
    );
  }
  const response = (await client
    .unwrap({ token: wrappingToken, requestOptions: { signal, call } })
    .catch((error: unknown) => Promise.reject(mapError(error, errorContext)))) as {
    data?: { secret_id?: unknown } | null;
  };
  const secretId = response.data?.secret_id;
  if (typeof secretId !== "string" || secretId === "") {
    throw new SecretwrapError("AUTH_FAILED", "the unwrapped response holds no secret_id", {
      subject: { provider: PROVIDER },
    });
  }
  return secretId;
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
