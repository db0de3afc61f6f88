// AppRole SecretIDs delivered response-wrapped: look the wrapping token up first (it must have been
// created by this role's secret-id endpoint), then unwrap it, once.
import { type ProviderContext, SecretwrapError } from "../../src/provider-api.ts";
import { readSource } from "./credentials.ts";
import { mapError } from "./errors.ts";
import type { Client } from "./login.ts";
import { PROVIDER } from "./options.ts";
import type { AuthSettings, SecretIdSource, Settings } from "./settings.ts";
import type { CallInfo } from "./transport.ts";

/** Wrapping tokens are single-use: a login retried after a successful unwrap reuses its SecretID. */
const unwrapped = new Map<string, string>();

export async function secretIdFrom(
  source: SecretIdSource,
  client: Client,
  settings: Settings,
  auth: Extract<AuthSettings, { method: "approle" }>,
  ctx: ProviderContext,
  signal: AbortSignal,
): Promise<string> {
  if (source.kind !== "wrapped") return readSource(source, "secret_id", ctx);
  const wrappingToken = readSource({ kind: "file", path: source.path }, "wrapped secret_id", ctx);
  const known = unwrapped.get(wrappingToken);
  if (known !== undefined) return known;
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
  ctx.addSecret(secretId);
  unwrapped.set(wrappingToken, secretId);
  return secretId;
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
