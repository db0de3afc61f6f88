// ref+vault://<mount>/<path>[?version=N][#field]: HashiCorp Vault and OpenBao through node-vault.
// Logs in once (token, AppRole with plain or response-wrapped SecretID, Kubernetes, JWT), detects
// KV v1/v2 per mount the way `vault kv get` does, and reads other engines (database/creds/…) as is.
//
// node-vault keeps the protocol (paths, headers, login calls, error envelopes); its HTTP layer is
// replaced through its documented `request-promise` hook by the transport below, because the built-in
// one cannot take an AbortSignal, follows redirects to any host with the X-Vault-Token header still
// attached, and has no response size limit. The transport is still axios, configured by us.
import { readFileSync } from "node:fs";
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { rootCertificates } from "node:tls";
import * as z from "zod/mini";
import type { AxiosStatic } from "axios";
import type NodeVault from "node-vault";
import { toIssues } from "../src/config/issues.ts";
import { checkEndpoint, readCaFile } from "../src/endpoint.ts";
import { SecretwrapError, type ErrorCode } from "../src/errors.ts";
import { MAX_SECRET_BYTES } from "../src/limits.ts";
import type { Fetched, Provider, ProviderContext, ProviderOptionsIssue, Session } from "../src/provider.ts";
import type { Ref } from "../src/config/ref.ts";
import { VERSION } from "../src/version.ts";

const PROVIDER = "vault";
const AUTH_METHODS = ["token", "approle", "kubernetes", "jwt"] as const;
type AuthMethod = (typeof AUTH_METHODS)[number];
/** Where Kubernetes projects the pod's service-account token. */
export const K8S_TOKEN_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/token";
/** A KV answer is JSON around the value, and JSON escaping can grow it; beyond this it is refused. */
const MAX_RESPONSE_BYTES = 4 * MAX_SECRET_BYTES + 64 * 1024;
const MAX_REDIRECTS = 3;
/** Bounds the best-effort token revocation in close(). */
const REVOKE_TIMEOUT_MS = 5_000;

const text = z.string().check(z.minLength(1));
const Auth = z.strictObject({
  method: z.optional(z.enum(AUTH_METHODS)),
  mount: z.optional(
    z
      .string()
      .check(
        z.regex(
          /^[^/\s]+(\/[^/\s]+)*$/,
          "a mount path like approle or team/k8s, without leading or trailing /",
        ),
      ),
  ),
  role: z.optional(text),
  roleId: z.optional(text),
  roleIdFile: z.optional(text),
  secretId: z.optional(text),
  secretIdFile: z.optional(text),
  wrappedSecretIdFile: z.optional(text),
  jwtFile: z.optional(text),
  tokenFile: z.optional(text),
});
const Options = z.strictObject({
  address: z.optional(text),
  endpoint: z.optional(text),
  namespace: z.optional(text),
  caFile: z.optional(text),
  allowHttp: z.optional(z.boolean()),
  revokeToken: z.optional(z.boolean()),
  auth: z.optional(Auth),
});
type Options = z.infer<typeof Options>;

// ---------------------------------------------------------------------------------------------------
// Settings: the config block wins over Vault's own variables.

type Source =
  | { readonly kind: "value"; readonly value: string; readonly env?: string }
  | { readonly kind: "file"; readonly path: string };
type SecretIdSource = Source | { readonly kind: "wrapped"; readonly path: string };

type AuthSettings =
  | { readonly method: "token"; readonly token: Source }
  | {
      readonly method: "approle";
      readonly mount: string;
      readonly role?: string;
      readonly roleId: Source;
      readonly secretId?: SecretIdSource;
    }
  | {
      readonly method: "kubernetes" | "jwt";
      readonly mount: string;
      readonly role: string;
      readonly jwt: Source;
    };

interface Settings {
  readonly url: URL;
  readonly namespace?: string;
  readonly caPem?: string;
  readonly revokeToken: boolean;
  readonly auth: AuthSettings;
}

type Env = Readonly<Record<string, string | undefined>>;

function configError(message: string, hint?: string): SecretwrapError {
  return new SecretwrapError("CONFIG_INVALID", `vault: ${message}`, {
    subject: { provider: PROVIDER },
    ...(hint === undefined ? {} : { hint }),
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function fromValue(value: string | undefined, env?: string): Source | undefined {
  if (value === undefined) return undefined;
  return env === undefined ? { kind: "value", value } : { kind: "value", value, env };
}

function fromFile(path: string | undefined): Source | undefined {
  return path === undefined ? undefined : { kind: "file", path };
}

function settingsFrom(options: Options, env: Env): Settings {
  if (options.address !== undefined && options.endpoint !== undefined) {
    throw configError("set either address or endpoint, not both (they are the same setting)");
  }
  const address = options.address ?? options.endpoint ?? nonEmpty(env["VAULT_ADDR"]);
  if (address === undefined) {
    throw configError(
      "no Vault address",
      "set VAULT_ADDR or `address` in the providers.vault block, e.g. https://vault.example.com:8200",
    );
  }
  const url = checkEndpoint(address, PROVIDER, options.allowHttp ?? false);
  const caFile = options.caFile ?? nonEmpty(env["VAULT_CACERT"]);
  const namespace = options.namespace ?? nonEmpty(env["VAULT_NAMESPACE"]);
  return {
    url,
    ...(namespace === undefined ? {} : { namespace }),
    ...(caFile === undefined ? {} : { caPem: readCaFile(caFile, PROVIDER) }),
    revokeToken: options.revokeToken ?? false,
    auth: authFrom(options.auth ?? {}, env),
  };
}

function authFrom(auth: NonNullable<Options["auth"]>, env: Env): AuthSettings {
  const token =
    fromFile(auth.tokenFile) ??
    fromValue(nonEmpty(env["VAULT_TOKEN"]), "VAULT_TOKEN") ??
    fromFile(nonEmpty(env["VAULT_TOKEN_FILE"]));
  const roleId =
    fromValue(auth.roleId) ??
    fromFile(auth.roleIdFile) ??
    fromValue(nonEmpty(env["VAULT_ROLE_ID"]), "VAULT_ROLE_ID") ??
    fromFile(nonEmpty(env["VAULT_ROLE_ID_FILE"]));
  const method = auth.method ?? methodFromEnv(env) ?? inferMethod(token !== undefined, roleId !== undefined);
  const mount = auth.mount ?? nonEmpty(env["VAULT_AUTH_MOUNT"]) ?? method;
  const role = auth.role ?? nonEmpty(env["VAULT_ROLE"]);
  switch (method) {
    case "token":
      if (token === undefined)
        throw configError("token auth needs a token", "set VAULT_TOKEN, VAULT_TOKEN_FILE or auth.tokenFile");
      return { method, token };
    case "approle": {
      if (roleId === undefined)
        throw configError(
          "AppRole auth needs a role_id",
          "set VAULT_ROLE_ID, VAULT_ROLE_ID_FILE, auth.roleId or auth.roleIdFile",
        );
      const wrapped = auth.wrappedSecretIdFile ?? nonEmpty(env["VAULT_WRAPPED_SECRET_ID_FILE"]);
      const secretId: SecretIdSource | undefined =
        fromValue(auth.secretId) ??
        fromFile(auth.secretIdFile) ??
        (auth.wrappedSecretIdFile === undefined
          ? undefined
          : { kind: "wrapped", path: auth.wrappedSecretIdFile }) ??
        fromValue(nonEmpty(env["VAULT_SECRET_ID"]), "VAULT_SECRET_ID") ??
        fromFile(nonEmpty(env["VAULT_SECRET_ID_FILE"])) ??
        (wrapped === undefined ? undefined : { kind: "wrapped", path: wrapped });
      return {
        method,
        mount,
        roleId,
        ...(role === undefined ? {} : { role }),
        ...(secretId === undefined ? {} : { secretId }),
      };
    }
    case "kubernetes":
    case "jwt": {
      if (role === undefined)
        throw configError(
          `${method} auth needs a role`,
          "set auth.role in the providers.vault block or VAULT_ROLE",
        );
      const jwt =
        fromFile(auth.jwtFile) ??
        (method === "jwt" ? fromValue(nonEmpty(env["VAULT_JWT"]), "VAULT_JWT") : undefined) ??
        fromFile(nonEmpty(env["VAULT_JWT_FILE"])) ??
        (method === "kubernetes" ? fromFile(K8S_TOKEN_FILE) : undefined);
      if (jwt === undefined)
        throw configError("jwt auth needs a JWT", "set auth.jwtFile, VAULT_JWT_FILE or VAULT_JWT");
      return { method, mount, role, jwt };
    }
  }
}

function methodFromEnv(env: Env): AuthMethod | undefined {
  const value = nonEmpty(env["VAULT_AUTH_METHOD"]);
  if (value === undefined) return undefined;
  if (!(AUTH_METHODS as readonly string[]).includes(value)) {
    throw configError(`VAULT_AUTH_METHOD="${value.slice(0, 40)}" is not one of ${AUTH_METHODS.join(", ")}`);
  }
  return value as AuthMethod;
}

function inferMethod(hasToken: boolean, hasRoleId: boolean): AuthMethod {
  if (hasToken && hasRoleId) {
    throw configError(
      "both a token and an AppRole role_id are set",
      "choose with VAULT_AUTH_METHOD=token|approle or auth.method",
    );
  }
  if (hasToken) return "token";
  if (hasRoleId) return "approle";
  throw configError(
    "no Vault credentials",
    "set VAULT_TOKEN, or VAULT_ROLE_ID + VAULT_SECRET_ID, or auth.method kubernetes/jwt with auth.role (see docs/providers/vault.md)",
  );
}

/** Credentials are read at every login attempt, so a rotated token file is picked up. */
function readSource(source: Source, what: string, ctx: ProviderContext): string {
  let value: string;
  if (source.kind === "value") {
    value = source.value;
  } else {
    try {
      value = readFileSync(source.path, "utf8").trim();
    } catch (error) {
      throw configError(
        `cannot read the ${what} file ${source.path} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      );
    }
    if (value === "") throw configError(`the ${what} file ${source.path} is empty`);
  }
  ctx.addSecret(value);
  return value;
}

// ---------------------------------------------------------------------------------------------------
// Transport: axios with our signal, no proxy, verified TLS with the optional extra CA, a size limit,
// and redirects followed only within the configured origin.

/** Per call: what the transport learned that node-vault's error object does not carry. */
interface CallInfo {
  retryAfterMs?: number;
}

interface RpOptions {
  readonly method: string;
  readonly uri: string;
  readonly headers?: Record<string, string>;
  readonly json?: unknown;
  readonly signal?: AbortSignal;
  readonly call?: CallInfo;
}

class RedirectRefused extends Error {
  readonly target: string;
  constructor(target: string) {
    super("redirect refused");
    this.name = "RedirectRefused";
    this.target = target;
  }
}

interface Transport {
  readonly rp: (
    options: RpOptions,
  ) => Promise<{ statusCode: number; body: unknown; request: { path: string } }>;
  close(): void;
}

function createTransport(axios: AxiosStatic, settings: Settings): Transport {
  const origin = settings.url.origin;
  const httpsAgent = new HttpsAgent({
    keepAlive: true,
    // Explicit, so no NODE_TLS_REJECT_UNAUTHORIZED can change it.
    rejectUnauthorized: true,
    ...(settings.caPem === undefined ? {} : { ca: [...rootCertificates, settings.caPem] }),
  });
  const httpAgent = new HttpAgent({ keepAlive: true });
  const rp: Transport["rp"] = async (options) => {
    let url = options.uri;
    for (let hops = 0; ; hops++) {
      const response = await axios.request({
        method: options.method,
        url,
        headers: { ...options.headers, "X-Vault-Request": "true", "User-Agent": `secretwrap/${VERSION}` },
        ...(options.json !== null && typeof options.json === "object" ? { data: options.json } : {}),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        // Every HTTP detail is decided here, never by the environment or a server.
        proxy: false,
        maxRedirects: 0,
        httpAgent,
        httpsAgent,
        maxContentLength: MAX_RESPONSE_BYTES,
        maxBodyLength: MAX_RESPONSE_BYTES,
        validateStatus: () => true,
      });
      const location = response.headers["location"] as unknown;
      if ((response.status === 307 || response.status === 308) && typeof location === "string") {
        // A standby node points at the active one. The token goes with the request, so only a redirect
        // to the same origin is followed; anything else is refused before a connection is made.
        const next = new URL(location, url);
        if (next.origin !== origin) throw new RedirectRefused(next.origin);
        if (hops >= MAX_REDIRECTS)
          throw new RedirectRefused(`${origin} (more than ${MAX_REDIRECTS} redirects)`);
        url = next.href;
        continue;
      }
      if (options.call !== undefined) {
        const retryAfter = parseRetryAfter(response.headers["retry-after"] as unknown);
        if (retryAfter !== undefined) options.call.retryAfterMs = retryAfter;
      }
      return {
        statusCode: response.status,
        body: response.data as unknown,
        request: { path: new URL(url).pathname },
      };
    }
  };
  return {
    rp,
    close() {
      httpsAgent.destroy();
      httpAgent.destroy();
    },
  };
}

function parseRetryAfter(value: unknown): number | undefined {
  if (typeof value !== "string" || value === "") return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

// ---------------------------------------------------------------------------------------------------
// Errors: node-vault and axios failures → SecretwrapError. A message never quotes a response body or
// an SDK message (they can echo requests); only statuses, error codes and the Vault error phrases
// recognised below, each replaced by our own constant text.

const KNOWN_PHRASES: readonly (readonly [RegExp, string])[] = [
  [/invalid role or secret id/i, "invalid role or secret ID"],
  [/wrapping token is not valid or does not exist/i, "wrapping token is not valid or does not exist"],
  [/invalid token/i, "invalid token"],
  [/permission denied/i, "permission denied"],
  [/vault is sealed/i, "Vault is sealed"],
  [/no active vault instance/i, "no active Vault instance found"],
  [/node is not active/i, "node is not active"],
  [/rate limit quota exceeded/i, "rate limit quota exceeded"],
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

type Stage = "login" | "unwrap" | "preflight" | "read" | "revoke";

interface Failure {
  readonly status?: number;
  readonly body?: unknown;
  readonly code?: string;
  readonly redirect?: string;
}

function describeFailure(error: unknown): Failure {
  if (error instanceof RedirectRefused) return { redirect: error.target };
  const response = (error as { response?: { statusCode?: unknown; body?: unknown } } | null)?.response;
  if (response !== undefined && typeof response.statusCode === "number")
    return { status: response.statusCode, body: response.body };
  const code = (error as { code?: unknown } | null)?.code;
  // axios's own wording (never a server's) is the only way to tell its size limit from a cut-off body.
  if (code === "ERR_BAD_RESPONSE" && /maxContentLength/.test((error as Error).message))
    return { code: "TOO_LARGE" };
  if (typeof code === "string") return { code };
  return {};
}

const TLS_CODE = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/;

interface ErrorContext {
  readonly stage: Stage;
  /** The API path (without /v1), never a value. */
  readonly path: string;
  readonly origin: string;
  readonly login?: AuthSettings;
  readonly call?: CallInfo;
}

function mapError(error: unknown, ctx: ErrorContext): SecretwrapError {
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
  if (failure.status === undefined) return transportError(failure.code, ctx, make);
  const status = failure.status;
  const phrase = vaultPhrase(failure.body);
  const said = phrase === undefined ? "" : ` (${phrase})`;
  const where = `${ctx.stage === "login" || ctx.stage === "unwrap" ? "" : "reading "}${ctx.path}`;
  if (status === 408 || status === 412 || status === 429 || status >= 500) {
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
    return make(
      "AUTH_FAILED",
      `Vault rejected the token (403, invalid token: expired or revoked) at ${ctx.path}`,
      {
        hint: "log in again with a valid token; with VAULT_TOKEN, issue a new one",
      },
    );
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
      break;
  }
  return make("FETCH_FAILED", `Vault answered ${status}${said} for ${where}`);
}

function loginError(
  status: number,
  said: string,
  phrase: string | undefined,
  ctx: ErrorContext,
  make: (code: ErrorCode, message: string, extra?: { hint?: string }) => SecretwrapError,
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
  code: string | undefined,
  ctx: ErrorContext,
  make: (code: ErrorCode, message: string, extra?: { hint?: string; transient?: boolean }) => SecretwrapError,
): SecretwrapError {
  const what =
    ctx.stage === "login" || ctx.stage === "unwrap"
      ? `logging in at ${ctx.path}`
      : ctx.stage === "revoke"
        ? "revoking the token"
        : `reading ${ctx.path}`;
  if (code !== undefined && TLS_CODE.test(code)) {
    return make("FETCH_FAILED", `TLS verification of ${ctx.origin} failed (${code}) while ${what}`, {
      hint: "give the CA that signed Vault's certificate with VAULT_CACERT or caFile, and make sure the address's host name is in the certificate",
    });
  }
  if (code === "TOO_LARGE") {
    return make(
      "FETCH_FAILED",
      `the answer from ${ctx.origin} while ${what} is larger than ${MAX_RESPONSE_BYTES} bytes`,
      {
        hint: `a secret may hold at most ${MAX_SECRET_BYTES} bytes`,
      },
    );
  }
  return make(
    "FETCH_FAILED",
    `cannot reach Vault at ${ctx.origin} while ${what} (${code ?? "connection error"})`,
    {
      transient: true,
      hint: "check VAULT_ADDR / address and that Vault is up; secretwrap retries until --timeout",
    },
  );
}

// ---------------------------------------------------------------------------------------------------
// Login

type Client = NodeVault.client;

interface AuthBody {
  readonly auth?: { readonly client_token?: unknown; readonly accessor?: unknown } | null;
}

function authPath(auth: Exclude<AuthSettings, { method: "token" }>): string {
  return `auth/${auth.mount}/login`;
}

async function login(
  client: Client,
  settings: Settings,
  ctx: ProviderContext,
  signal: AbortSignal,
): Promise<void> {
  const auth = settings.auth;
  if (auth.method === "token") {
    client.token = readSource(auth.token, "token", ctx);
    return;
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
        : await secretIdFrom(auth.secretId, client, settings, auth, ctx, signal);
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
}

/** Wrapping tokens are single-use: a login retried after a successful unwrap reuses its SecretID. */
const unwrapped = new Map<string, string>();

async function secretIdFrom(
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

// ---------------------------------------------------------------------------------------------------
// Mounts and reads

interface MountInfo {
  /** With a trailing slash, e.g. "secret/". */
  readonly path: string;
  readonly kind: "kv1" | "kv2" | "other";
}

function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

class Mounts {
  readonly #known: MountInfo[] = [];
  readonly #pending = new Map<string, Promise<unknown>>();
  readonly #client: Client;
  readonly #origin: string;

  constructor(client: Client, origin: string) {
    this.#client = client;
    this.#origin = origin;
  }

  /** The mount a locator lives on: asked once per mount, as `vault kv get` does. */
  async lookup(locator: string, signal: AbortSignal): Promise<MountInfo> {
    // Lookups that may hit the same mount wait for each other, so concurrent reads ask once.
    const group = locator.split("/")[0] ?? locator;
    for (;;) {
      const cached = this.#cached(locator);
      if (cached !== undefined) return cached;
      const pending = this.#pending.get(group);
      if (pending === undefined) break;
      await pending.catch(() => undefined);
    }
    const ask = this.#ask(locator, signal);
    this.#pending.set(group, ask);
    try {
      const info = await ask;
      this.#known.push(info);
      return info;
    } finally {
      this.#pending.delete(group);
    }
  }

  #cached(locator: string): MountInfo | undefined {
    const candidates = this.#known.filter((m) => `${locator}/`.startsWith(m.path));
    return candidates.sort((a, b) => b.path.length - a.path.length)[0];
  }

  async #ask(locator: string, signal: AbortSignal): Promise<MountInfo> {
    const path = `sys/internal/ui/mounts/${encodePath(locator)}`;
    const call: CallInfo = {};
    let body: { data?: { path?: unknown; type?: unknown; options?: { version?: unknown } | null } | null };
    try {
      body = (await this.#client.read(path, { signal, call })) as typeof body;
    } catch (error) {
      // An old Vault without this endpoint: like the CLI, assume KV v1 on the first segment.
      if (describeFailure(error).status === 404)
        return { path: `${locator.split("/")[0] ?? locator}/`, kind: "kv1" };
      throw mapError(error, { stage: "preflight", path, origin: this.#origin, call });
    }
    const mountPath = body.data?.path;
    if (typeof mountPath !== "string" || mountPath === "" || !`${locator}/`.startsWith(mountPath)) {
      throw new SecretwrapError(
        "FETCH_FAILED",
        `Vault's mount lookup for ${locator} gave no usable mount path`,
        { subject: { provider: PROVIDER } },
      );
    }
    const type = body.data?.type;
    const version = body.data?.options?.version;
    const kind = type === "kv" || type === "generic" ? (version === "2" ? "kv2" : "kv1") : "other";
    return { path: mountPath, kind };
  }
}

interface ReadPlan {
  readonly apiPath: string;
  readonly kind: MountInfo["kind"];
  readonly version?: string;
}

function planRead(ref: Ref, mount: MountInfo): ReadPlan {
  const rest = `${ref.locator}/`.slice(mount.path.length).replace(/\/$/, "");
  const version = ref.params["version"];
  const refError = (why: string): SecretwrapError =>
    new SecretwrapError("REF_INVALID", `${ref.locator}: ${why}`, { subject: { provider: PROVIDER } });
  if (rest === "") throw refError(`names the mount ${mount.path} itself, not a secret in it`);
  if (version !== undefined && mount.kind !== "kv2")
    throw refError(
      `?version applies to KV v2 only, and ${mount.path} is ${mount.kind === "kv1" ? "KV v1" : "not a KV mount"}`,
    );
  if (mount.kind === "kv2") {
    return {
      apiPath: `${mount.path}data/${rest}`,
      kind: "kv2",
      ...(version === undefined ? {} : { version }),
    };
  }
  return { apiPath: `${mount.path}${rest}`, kind: mount.kind };
}

interface ReadBody {
  readonly data?: unknown;
  readonly lease_id?: unknown;
  readonly lease_duration?: unknown;
  readonly renewable?: unknown;
}

interface KvMetadata {
  readonly version?: unknown;
  readonly deletion_time?: unknown;
  readonly destroyed?: unknown;
}

/** KV v2 says "deleted" or "destroyed" with a full envelope (404, or 200 with data null on old servers). */
function deletedVersionError(ref: Ref, plan: ReadPlan, metadata: KvMetadata): SecretwrapError | undefined {
  const version =
    typeof metadata.version === "number" ? String(metadata.version) : (plan.version ?? "latest");
  const which = plan.version === undefined ? `the latest version (${version})` : `version ${version}`;
  const subject = { provider: PROVIDER };
  if (metadata.destroyed === true) {
    return new SecretwrapError("SECRET_NOT_FOUND", `${which} of ${ref.locator} is destroyed`, {
      subject,
      hint: "a destroyed version cannot come back: pin another ?version=N or write a new version",
    });
  }
  if (typeof metadata.deletion_time === "string" && metadata.deletion_time !== "") {
    return new SecretwrapError(
      "SECRET_NOT_FOUND",
      `${which} of ${ref.locator} was deleted at ${metadata.deletion_time.slice(0, 40)}`,
      {
        subject,
        hint: `restore it with \`vault kv undelete -versions=${version} ${ref.locator}\`, or pin another ?version=N`,
      },
    );
  }
  return undefined;
}

function asMap(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** The core masks the fetched bytes (the whole JSON); every field value is masked on its own too. */
function maskLeaves(value: unknown, ctx: ProviderContext): void {
  if (typeof value === "string") ctx.addSecret(value);
  else if (typeof value === "number" || typeof value === "boolean") ctx.addSecret(String(value));
  else if (value !== null && typeof value === "object")
    for (const child of Object.values(value)) maskLeaves(child, ctx);
}

function toFetched(ref: Ref, plan: ReadPlan, body: ReadBody, ctx: ProviderContext): Fetched {
  const data = asMap(body.data);
  let map: Record<string, unknown> | undefined;
  let version: string | undefined;
  if (plan.kind === "kv2") {
    const metadata = asMap(data?.["metadata"]) ?? {};
    map = asMap(data?.["data"]);
    if (map === undefined) {
      throw (
        deletedVersionError(ref, plan, metadata) ??
        new SecretwrapError("SECRET_NOT_FOUND", `${ref.locator} has no data`, {
          subject: { provider: PROVIDER },
        })
      );
    }
    if (typeof metadata.version === "number") version = String(metadata.version);
  } else {
    map = data;
    if (map === undefined)
      throw new SecretwrapError("SECRET_NOT_FOUND", `${plan.apiPath} returned no data`, {
        subject: { provider: PROVIDER },
      });
  }
  maskLeaves(map, ctx);
  const bytes = Buffer.from(JSON.stringify(map), "utf8");
  if (bytes.length > MAX_SECRET_BYTES) {
    throw new SecretwrapError("FETCH_FAILED", `${ref.locator} is larger than ${MAX_SECRET_BYTES} bytes`, {
      subject: { provider: PROVIDER },
    });
  }
  const audit: Record<string, string> = {};
  // Dynamic secrets: the lease is what an operator needs to find or revoke these credentials.
  if (typeof body.lease_id === "string" && body.lease_id !== "") {
    audit["lease_id"] = body.lease_id;
    if (typeof body.lease_duration === "number") audit["lease_duration"] = `${body.lease_duration}s`;
    if (typeof body.renewable === "boolean") audit["renewable"] = String(body.renewable);
  }
  return {
    bytes,
    keyValueMap: true,
    ...(version === undefined ? {} : { version }),
    ...(Object.keys(audit).length === 0 ? {} : { audit }),
  };
}

// ---------------------------------------------------------------------------------------------------
// Session

class VaultSession implements Session {
  readonly consumedEnv: readonly string[];
  readonly #client: Client;
  readonly #transport: Transport;
  readonly #settings: Settings;
  readonly #ctx: ProviderContext;
  readonly #mounts: Mounts;

  constructor(client: Client, transport: Transport, settings: Settings, ctx: ProviderContext) {
    this.#client = client;
    this.#transport = transport;
    this.#settings = settings;
    this.#ctx = ctx;
    this.#mounts = new Mounts(client, settings.url.origin);
    this.consumedEnv = consumedVariables(settings.auth);
  }

  async fetch(ref: Ref, signal: AbortSignal): Promise<Fetched> {
    const mount = await this.#mounts.lookup(ref.locator, signal);
    const plan = planRead(ref, mount);
    const call: CallInfo = {};
    const query = plan.version === undefined ? "" : `?version=${plan.version}`;
    let body: ReadBody;
    try {
      body = (await this.#client.read(`${encodePath(plan.apiPath)}${query}`, { signal, call })) as ReadBody;
    } catch (error) {
      const failure = describeFailure(error);
      const metadata =
        plan.kind === "kv2" && failure.status === 404
          ? asMap(asMap(asMap(failure.body)?.["data"])?.["metadata"])
          : undefined;
      const deleted = metadata === undefined ? undefined : deletedVersionError(ref, plan, metadata);
      if (deleted !== undefined) throw deleted;
      if (failure.status === 404 && plan.version !== undefined) {
        throw new SecretwrapError(
          "SECRET_NOT_FOUND",
          `version ${plan.version} of ${ref.locator} does not exist (404)`,
          { subject: { provider: PROVIDER } },
        );
      }
      throw mapError(error, { stage: "read", path: plan.apiPath, origin: this.#settings.url.origin, call });
    }
    return toFetched(ref, plan, body, this.#ctx);
  }

  async close(): Promise<void> {
    try {
      if (this.#settings.revokeToken) await this.#revoke();
    } finally {
      this.#transport.close();
    }
  }

  /** revokeToken: true. Revoking a token also revokes every lease it created (dynamic secrets). */
  async #revoke(): Promise<void> {
    const call: CallInfo = {};
    try {
      await this.#client.write(
        "auth/token/revoke-self",
        {},
        { signal: AbortSignal.timeout(Math.min(REVOKE_TIMEOUT_MS, this.#ctx.attemptTimeoutMs)), call },
      );
      this.#ctx.log.debug("revoked the Vault token (revokeToken: true)", { provider: PROVIDER });
    } catch (error) {
      const mapped = mapError(error, {
        stage: "revoke",
        path: "auth/token/revoke-self",
        origin: this.#settings.url.origin,
        call,
      });
      this.#ctx.log.warn(`could not revoke the Vault token: ${mapped.message}`, { provider: PROVIDER });
    }
  }
}

function consumedVariables(auth: AuthSettings): string[] {
  const sources: (Source | SecretIdSource | undefined)[] =
    auth.method === "token"
      ? [auth.token]
      : auth.method === "approle"
        ? [auth.roleId, auth.secretId]
        : [auth.jwt];
  return sources.flatMap((s) => (s?.kind === "value" && s.env !== undefined ? [s.env] : []));
}

async function connect(options: unknown, ctx: ProviderContext, signal: AbortSignal): Promise<Session> {
  const parsed = z.safeParse(Options, options ?? {});
  if (!parsed.success)
    throw configError("the providers.vault block is invalid (run `secretwrap check` for details)");
  const settings = settingsFrom(parsed.data, ctx.env);
  if (nonEmpty(ctx.env["VAULT_SKIP_VERIFY"]) !== undefined) {
    ctx.log.warn(
      "VAULT_SKIP_VERIFY is ignored: secretwrap always verifies Vault's certificate (give its CA with VAULT_CACERT or caFile)",
      { provider: PROVIDER },
    );
  }
  const [{ default: createClient }, { default: axios }] = await Promise.all([
    import("node-vault"),
    import("axios"),
  ]);
  const transport = createTransport(axios, settings);
  try {
    const client = createClient({
      endpoint: `${settings.url.origin}${settings.url.pathname.replace(/\/+$/, "")}`,
      // node-vault falls back to process.env for these; everything comes from settings instead.
      ...(settings.namespace === undefined ? {} : { namespace: settings.namespace }),
      pathPrefix: "",
      debug: () => undefined,
      "request-promise": { defaults: () => transport.rp },
    });
    client.token = "";
    if (settings.namespace === undefined) (client as { namespace?: string }).namespace = "";
    (client as { pathPrefix?: string }).pathPrefix = "";
    await login(client, settings, ctx, signal);
    return new VaultSession(client, transport, settings, ctx);
  } catch (error) {
    transport.close();
    throw error;
  }
}

export const provider: Provider = {
  scheme: PROVIDER,
  validateOptions(options): ProviderOptionsIssue[] {
    const result = z.safeParse(Options, options ?? {});
    if (!result.success) return toIssues(result.error.issues);
    const issues: ProviderOptionsIssue[] = [];
    const block = result.data;
    if (block.address !== undefined && block.endpoint !== undefined)
      issues.push({ path: ["endpoint"], message: "address and endpoint are the same setting; give one" });
    const auth = block.auth ?? {};
    const exclusive: [keyof typeof auth, keyof typeof auth][] = [
      ["roleId", "roleIdFile"],
      ["secretId", "secretIdFile"],
      ["secretId", "wrappedSecretIdFile"],
      ["secretIdFile", "wrappedSecretIdFile"],
    ];
    for (const [a, b] of exclusive)
      if (auth[a] !== undefined && auth[b] !== undefined)
        issues.push({ path: ["auth", b], message: `give ${a} or ${b}, not both` });
    return issues;
  },
  connect,
};
