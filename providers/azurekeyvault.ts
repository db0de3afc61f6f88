// ref+azurekeyvault://<vault-name>/<secret>[/<version>][#field]: Azure Key Vault through
// @azure/keyvault-secrets and @azure/identity, loaded inside connect() so config validation stays cheap.
// The credential is chosen explicitly (or from production sources only), so a container never falls
// through to a developer's `az login` by accident. The SDKs' own retries are off: src/retry.ts decides.
import { readFileSync } from "node:fs";
import { rootCertificates } from "node:tls";
import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/identity";
import * as z from "zod/mini";
import { toIssues } from "../src/config/issues.ts";
import type { Ref } from "../src/config/ref.ts";
import { checkEndpoint, readCaFile } from "../src/endpoint.ts";
import { SecretwrapError } from "../src/errors.ts";
import { MAX_SECRET_BYTES } from "../src/limits.ts";
import { TLS_FAILURE, TRANSIENT_NETWORK_CODES } from "../src/network.ts";
import type { Fetched, Provider, ProviderContext, ProviderOptionsIssue, Session } from "../src/provider.ts";

const NAME = "azurekeyvault";
const METHODS = [
  "auto",
  "workloadIdentity",
  "managedIdentity",
  "clientSecret",
  "azureCli",
  "default",
] as const;
type Method = (typeof METHODS)[number];
type ChosenMethod = Exclude<Method, "auto">;

const Auth = z.strictObject({
  method: z.optional(z.enum(METHODS)),
  tenantId: z.optional(z.string().check(z.minLength(1))),
  clientId: z.optional(z.string().check(z.minLength(1))),
  resourceId: z.optional(z.string().check(z.minLength(1))),
  tokenFile: z.optional(z.string().check(z.minLength(1))),
  clientSecretFile: z.optional(z.string().check(z.minLength(1))),
  authorityHost: z.optional(z.string().check(z.minLength(1))),
  disableInstanceDiscovery: z.optional(z.boolean()),
  additionallyAllowedTenants: z.optional(z.array(z.string().check(z.minLength(1)))),
});

const Options = z.strictObject({
  auth: z.optional(Auth),
  dnsSuffix: z.optional(
    z.string().check(z.regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i, "a DNS suffix such as vault.azure.net")),
  ),
  vaultUrls: z.optional(z.record(z.string(), z.string())),
  endpoint: z.optional(z.string()),
  caFile: z.optional(z.string().check(z.minLength(1))),
  allowHttp: z.optional(z.boolean()),
  disableChallengeResourceVerification: z.optional(z.boolean()),
});
type Options = z.infer<typeof Options>;
type AuthOptions = z.infer<typeof Auth>;

// Which auth keys mean something for which method: a key that cannot apply is a config error, not a
// silent no-op (e.g. `clientSecretFile` with managed identity).
const APPLIES: Readonly<Record<string, readonly Method[]>> = {
  tenantId: ["auto", "workloadIdentity", "clientSecret", "azureCli", "default"],
  clientId: ["auto", "workloadIdentity", "managedIdentity", "clientSecret", "default"],
  resourceId: ["auto", "managedIdentity", "default"],
  tokenFile: ["auto", "workloadIdentity"],
  clientSecretFile: ["auto", "clientSecret"],
  authorityHost: ["auto", "workloadIdentity", "clientSecret", "default"],
  disableInstanceDiscovery: ["auto", "workloadIdentity", "clientSecret", "default"],
  additionallyAllowedTenants: ["auto", "workloadIdentity", "clientSecret", "azureCli", "default"],
};

function validateOptions(options: unknown): ProviderOptionsIssue[] {
  const result = z.safeParse(Options, options);
  if (!result.success) return toIssues(result.error.issues);
  const auth = result.data.auth ?? {};
  const method = auth.method ?? "auto";
  const issues: ProviderOptionsIssue[] = [];
  for (const key of Object.keys(auth)) {
    const applies = APPLIES[key];
    if (applies !== undefined && !applies.includes(method)) {
      issues.push({ path: ["auth", key], message: `not used by auth method "${method}"` });
    }
  }
  if (auth.clientId !== undefined && auth.resourceId !== undefined) {
    issues.push({
      path: ["auth", "resourceId"],
      message: "give either clientId or resourceId for a user-assigned identity, not both",
    });
  }
  return issues;
}

// ---------------------------------------------------------------------------------------------------
// Choosing and building the credential

type Env = ProviderContext["env"];

/** AZURE_TOKEN_CREDENTIALS is the Azure SDKs' own switch; only its production value maps to "auto". */
const TOKEN_CREDENTIALS: Readonly<Record<string, ChosenMethod | "auto">> = {
  prod: "auto",
  WorkloadIdentityCredential: "workloadIdentity",
  ManagedIdentityCredential: "managedIdentity",
  AzureCliCredential: "azureCli",
};

export function chooseMethod(auth: AuthOptions, env: Env): ChosenMethod {
  const fromEnv = env["AZURE_TOKEN_CREDENTIALS"]?.trim();
  const asked = auth.method ?? (fromEnv ? (TOKEN_CREDENTIALS[fromEnv] ?? "default") : "auto");
  if (asked !== "auto") return asked;
  // Production sources only, in DefaultAzureCredential's order: environment (client secret),
  // workload identity, managed identity.
  if ((auth.clientSecretFile ?? env["AZURE_CLIENT_SECRET"]) !== undefined) return "clientSecret";
  if ((auth.tokenFile ?? env["AZURE_FEDERATED_TOKEN_FILE"]) !== undefined) return "workloadIdentity";
  return "managedIdentity";
}

interface Built {
  /** A fresh credential (and MSAL client) each call; see SharedCredential for why. */
  readonly create: () => TokenCredential;
  readonly consumedEnv: readonly string[];
}

type Identity = typeof import("@azure/identity");

function buildCredential(
  identity: Identity,
  method: ChosenMethod,
  auth: AuthOptions,
  ctx: ProviderContext,
  tlsOptions: object,
  traffic: TokenTraffic,
): Built {
  const env = ctx.env;
  const authorityHost = auth.authorityHost ?? env["AZURE_AUTHORITY_HOST"];
  if (authorityHost !== undefined) checkEndpoint(authorityHost, NAME);
  const common = {
    // One attempt per call: src/retry.ts is the retry layer.
    retryOptions: { maxRetries: 0 },
    additionalPolicies: [{ policy: observeTokenTraffic(traffic), position: "perCall" as const }],
    ...tlsOptions,
    ...(authorityHost === undefined ? {} : { authorityHost }),
    ...(auth.disableInstanceDiscovery === undefined
      ? {}
      : { disableInstanceDiscovery: auth.disableInstanceDiscovery }),
    ...(auth.additionallyAllowedTenants === undefined
      ? {}
      : { additionallyAllowedTenants: auth.additionallyAllowedTenants }),
  };
  const tenantId = auth.tenantId ?? env["AZURE_TENANT_ID"];
  const clientId = auth.clientId ?? env["AZURE_CLIENT_ID"];
  const need = (values: Record<string, string | undefined>, how: string): Record<string, string> => {
    const missing = Object.entries(values)
      .filter(([, v]) => v === undefined || v === "")
      .map(([k]) => k);
    if (missing.length > 0) {
      throw new SecretwrapError("CONFIG_INVALID", `${NAME}: ${method} needs ${missing.join(", ")}`, {
        subject: { provider: NAME },
        hint: how,
      });
    }
    return values as Record<string, string>;
  };
  switch (method) {
    case "workloadIdentity": {
      const v = need(
        {
          AZURE_TENANT_ID: tenantId,
          AZURE_CLIENT_ID: clientId,
          AZURE_FEDERATED_TOKEN_FILE: auth.tokenFile ?? env["AZURE_FEDERATED_TOKEN_FILE"],
        },
        'on AKS, label the pod azure.workload.identity/use: "true" and give its service account the azure.workload.identity/client-id annotation (or set auth.tenantId / auth.clientId / auth.tokenFile)',
      );
      const tokenFilePath = v["AZURE_FEDERATED_TOKEN_FILE"] as string;
      ctx.addSecret(readCredentialFile(tokenFilePath, "the federated token file"));
      return {
        create: () =>
          new identity.WorkloadIdentityCredential({
            ...common,
            tenantId: v["AZURE_TENANT_ID"] as string,
            clientId: v["AZURE_CLIENT_ID"] as string,
            tokenFilePath,
          }),
        consumedEnv: [],
      };
    }
    case "clientSecret": {
      const fromFile = auth.clientSecretFile;
      const secret =
        fromFile === undefined
          ? env["AZURE_CLIENT_SECRET"]
          : readCredentialFile(fromFile, "the client secret file").trim();
      const v = need(
        { AZURE_TENANT_ID: tenantId, AZURE_CLIENT_ID: clientId, AZURE_CLIENT_SECRET: secret },
        "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or auth.clientSecretFile)",
      );
      ctx.addSecret(v["AZURE_CLIENT_SECRET"] as string);
      return {
        create: () =>
          new identity.ClientSecretCredential(
            v["AZURE_TENANT_ID"] as string,
            v["AZURE_CLIENT_ID"] as string,
            v["AZURE_CLIENT_SECRET"] as string,
            common,
          ),
        consumedEnv: fromFile === undefined ? ["AZURE_CLIENT_SECRET"] : [],
      };
    }
    case "managedIdentity": {
      // msal-node reads IDENTITY_ENDPOINT / IDENTITY_HEADER / IMDS settings from the process
      // environment itself; the header is a credential, so it is masked here.
      maskIfSet(ctx, ["IDENTITY_HEADER", "MSI_SECRET"]);
      const user =
        auth.resourceId !== undefined
          ? { resourceId: auth.resourceId }
          : clientId === undefined
            ? {}
            : { clientId };
      return {
        create: () =>
          new identity.ManagedIdentityCredential({ ...user, retryOptions: { maxRetries: 0 }, ...tlsOptions }),
        consumedEnv: [],
      };
    }
    case "azureCli":
      return {
        create: () =>
          new identity.AzureCliCredential({
            processTimeoutInMs: ctx.attemptTimeoutMs,
            ...(tenantId === undefined ? {} : { tenantId }),
            ...(auth.additionallyAllowedTenants === undefined
              ? {}
              : { additionallyAllowedTenants: auth.additionallyAllowedTenants }),
          }),
        consumedEnv: [],
      };
    case "default": {
      maskIfSet(ctx, ["AZURE_CLIENT_SECRET", "IDENTITY_HEADER", "MSI_SECRET"]);
      const tokenFile = env["AZURE_FEDERATED_TOKEN_FILE"];
      if (tokenFile !== undefined) ctx.addSecret(readCredentialFile(tokenFile, "the federated token file"));
      return {
        create: () =>
          new identity.DefaultAzureCredential({
            ...common,
            processTimeoutInMs: ctx.attemptTimeoutMs,
            ...(auth.tenantId === undefined ? {} : { tenantId: auth.tenantId }),
            ...(auth.resourceId !== undefined
              ? { managedIdentityResourceId: auth.resourceId }
              : auth.clientId === undefined
                ? {}
                : { managedIdentityClientId: auth.clientId, workloadIdentityClientId: auth.clientId }),
          }),
        consumedEnv: env["AZURE_CLIENT_SECRET"] === undefined ? [] : ["AZURE_CLIENT_SECRET"],
      };
    }
  }
}

function maskIfSet(ctx: ProviderContext, names: readonly string[]): void {
  for (const name of names) {
    const value = ctx.env[name];
    if (value !== undefined && value !== "") ctx.addSecret(value);
  }
}

function readCredentialFile(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new SecretwrapError(
      "AUTH_FAILED",
      `${NAME}: cannot read ${what} ${path} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      {
        subject: { provider: NAME },
        hint: "check that the file is mounted and readable by the user secretwrap runs as",
      },
    );
  }
}

// ---------------------------------------------------------------------------------------------------
// One token per run: the challenge policy of each SecretClient (one per vault) asks the credential
// for a token; this shares one request between them, and remembers a definite refusal so that twenty
// secrets do not make twenty failing logins. After a transient failure the next attempt gets a fresh
// credential: MSAL remembers a 429/5xx and refuses every request to that endpoint for up to 60 s on
// its own (ThrottlingUtils), which would be a second retry policy behind src/retry.ts.

class SharedCredential implements TokenCredential {
  readonly #create: () => TokenCredential;
  #inner: TokenCredential;
  readonly #method: ChosenMethod;
  readonly #traffic: TokenTraffic;
  readonly #mask: (token: string) => void;
  readonly #tokens = new Map<string, Promise<AccessToken>>();
  #refused: SecretwrapError | undefined;

  constructor(
    create: () => TokenCredential,
    method: ChosenMethod,
    traffic: TokenTraffic,
    mask: (token: string) => void,
  ) {
    this.#create = create;
    this.#inner = create();
    this.#method = method;
    this.#traffic = traffic;
    this.#mask = mask;
  }

  async getToken(scopes: string | string[], options: GetTokenOptions = {}): Promise<AccessToken> {
    if (this.#refused !== undefined) throw this.#refused;
    const key = JSON.stringify([scopes, options.tenantId ?? "", options.claims ?? ""]);
    const shared = this.#tokens.get(key);
    if (shared !== undefined) {
      const token = await shared;
      // The challenge policy refreshes within 2 minutes of expiry: hand it a new token then.
      if (token.expiresOnTimestamp - 150_000 > Date.now()) return token;
      if (this.#tokens.get(key) === shared) this.#tokens.delete(key);
    }
    let pending = this.#tokens.get(key);
    if (pending === undefined) {
      const request = this.#request(scopes, options);
      // A failed or abandoned request is not shared with later attempts.
      request.catch(() => {
        if (this.#tokens.get(key) === request) this.#tokens.delete(key);
      });
      this.#tokens.set(key, request);
      pending = request;
    }
    return pending;
  }

  async #request(scopes: string | string[], options: GetTokenOptions): Promise<AccessToken> {
    this.#traffic.last = undefined;
    let token: AccessToken | null;
    try {
      token = await untilAborted(this.#inner.getToken(scopes, options), options.abortSignal, this.#method);
    } catch (error) {
      const mapped = credentialError(error, this.#method, this.#traffic.last);
      if (mapped.transient) this.#inner = this.#create();
      else this.#refused = mapped;
      throw mapped;
    }
    if (token === null)
      throw new SecretwrapError("AUTH_FAILED", `${NAME}: ${this.#method} returned no token`);
    this.#mask(token.token);
    return token;
  }
}

/**
 * The credentials do not all stop on abort, and a token request that never settles would also hang
 * the challenge policy's shared refresh for every later attempt: give up on it when the attempt ends.
 */
function untilAborted<T>(
  promise: Promise<T>,
  signal: GetTokenOptions["abortSignal"],
  method: ChosenMethod,
): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void =>
      reject(
        new SecretwrapError("FETCH_FAILED", `${NAME}: ${method}: the token request did not finish in time`, {
          transient: true,
        }),
      );
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/**
 * What the token endpoint last answered. @azure/identity turns MSAL's failures into errors that keep
 * only a message, so the HTTP status (503 vs 400) is taken from the wire by a pipeline policy.
 */
interface TokenTraffic {
  last: { status?: number; retryAfterMs?: number; transportCode?: string } | undefined;
}

type PipelinePolicy = NonNullable<
  import("@azure/identity").TokenCredentialOptions["additionalPolicies"]
>[number]["policy"];

function observeTokenTraffic(traffic: TokenTraffic): PipelinePolicy {
  return {
    name: "secretwrapTokenTraffic",
    async sendRequest(request, next) {
      try {
        const response = await next(request);
        const wait = retryAfterMs((name) => response.headers.get(name));
        traffic.last = { status: response.status, ...(wait === undefined ? {} : { retryAfterMs: wait }) };
        return response;
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        traffic.last = typeof code === "string" ? { transportCode: code } : {};
        throw error;
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Error mapping: messages name the vault, secret, status and the service's error code, never a body
// (Entra ID descriptions and Key Vault messages are response bodies), a token or a header.

// OAuth 2.0 error codes that mean "try again" (RFC 6749 §5.2 and Entra ID's own).
const TRANSIENT_OAUTH = new Set(["temporarily_unavailable", "server_error", "network_error"]);

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  statusCode?: unknown;
  status?: unknown;
  message?: unknown;
  cause?: unknown;
  errorCode?: unknown;
  errorNo?: unknown;
  response?: { headers?: { get(name: string): string | undefined } };
  details?: unknown;
}

function chain(error: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  let current: unknown = error;
  while (typeof current === "object" && current !== null && out.length < 8) {
    const e: ErrorLike = current;
    out.push(e);
    current = e.cause;
  }
  return out;
}

function firstOf<T>(
  errors: ErrorLike[],
  pick: (e: ErrorLike) => unknown,
  is: (v: unknown) => v is T,
): T | undefined {
  for (const e of errors) {
    const v = pick(e);
    if (is(v)) return v;
  }
  return undefined;
}
const isText = (v: unknown): v is string => typeof v === "string" && v !== "";
const isNumber = (v: unknown): v is number => typeof v === "number";

/** A failure below HTTP (refused, reset, DNS, TLS). */
function transportFailure(
  code: string | undefined,
  aborted: boolean,
  where: string,
): SecretwrapError | undefined {
  if (code !== undefined && TLS_FAILURE.test(code)) {
    return new SecretwrapError("FETCH_FAILED", `${where}: TLS verification failed (${code})`, {
      hint: `check the server certificate; for a private CA set providers.${NAME}.caFile`,
    });
  }
  if (code !== undefined && TRANSIENT_NETWORK_CODES.has(code)) {
    return new SecretwrapError("FETCH_FAILED", `${where}: connection failed (${code})`, { transient: true });
  }
  if (aborted) return new SecretwrapError("FETCH_FAILED", `${where}: request aborted`, { transient: true });
  return undefined;
}

/** Retry-After in seconds or as an HTTP date, or Azure's millisecond variants. */
function retryAfterMs(header: (name: string) => string | undefined): number | undefined {
  for (const name of ["retry-after-ms", "x-ms-retry-after-ms"]) {
    const raw = header(name);
    const ms = Number(raw);
    if (raw !== undefined && raw !== "" && Number.isFinite(ms) && ms >= 0) return ms;
  }
  const value = header("retry-after");
  if (value === undefined || value === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

const TENANT_MISMATCH = /not configured to acquire tokens for tenant ([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)/;
// MSAL's server-error message starts "<oauth error>: Error(s): <AADSTS numbers> - …Description…";
// only the leading code and numbers are kept, never the description.
const MSAL_MESSAGE = /^(?:[A-Za-z]+: [A-Za-z ]+\. Message:? ?)?([a-z_]+): Error\(s\): ([0-9, ]+)?/;

function credentialError(error: unknown, method: ChosenMethod, wire: TokenTraffic["last"]): SecretwrapError {
  if (error instanceof SecretwrapError) return error;
  const errors = chain(error);
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
  const code = wire?.transportCode ?? firstOf(errors, (e) => e.code, isText);
  const transport = transportFailure(
    code,
    errors.some((e) => e.name === "AbortError"),
    `${where} could not reach its token endpoint`,
  );
  if (transport !== undefined) return transport;
  const status = wire?.status ?? firstOf(errors, (e) => e.status ?? e.statusCode, isNumber);
  const parsed = messages.map((m) => MSAL_MESSAGE.exec(m)).find((m) => m !== null) ?? undefined;
  const oauth = firstOf(errors, (e) => e.errorCode, isText) ?? parsed?.[1];
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
  if (
    (status !== undefined && isRetryableStatus(status)) ||
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

function vaultError(error: unknown, ref: Ref, vaultUrl: string): SecretwrapError {
  if (error instanceof SecretwrapError) return error;
  const errors = chain(error);
  const [vault, secret, version] = ref.locator.split("/");
  const what = `secret ${secret ?? "?"}${version === undefined ? "" : ` version ${version}`} in vault ${vault ?? "?"}`;
  const first = errors[0];
  const status = typeof first?.statusCode === "number" ? first.statusCode : undefined;
  if (status === undefined) {
    const message = firstOf(errors, (e) => e.message, isText) ?? "";
    if (message.startsWith("The challenge resource")) {
      return new SecretwrapError(
        "AUTH_FAILED",
        `${NAME}: ${vaultUrl} asked for a token for another resource than Key Vault; refusing to send one`,
        {
          hint: `the vault URL must be a Key Vault host (https://<name>.vault.azure.net); for emulators set providers.${NAME}.disableChallengeResourceVerification: true`,
        },
      );
    }
    const code = firstOf(errors, (e) => e.code, isText);
    return (
      transportFailure(
        code,
        errors.some((e) => e.name === "AbortError"),
        `${NAME}: ${what} (${vaultUrl})`,
      ) ??
      new SecretwrapError(
        "FETCH_FAILED",
        `${NAME}: ${what}: unexpected ${isText(first?.name) ? first.name : "error"}`,
        {
          transient: true,
        },
      )
    );
  }
  const code = typeof first?.code === "string" ? first.code : undefined;
  const inner = innerCode(first?.details);
  const codes = [code, inner].filter(Boolean).join("/");
  const tag = `HTTP ${status}${codes === "" ? "" : ` ${codes}`}`;
  if (status === 404) {
    return new SecretwrapError("SECRET_NOT_FOUND", `${NAME}: ${what} was not found (${tag})`, {
      hint: "check the vault name, secret name and version; a deleted secret must be recovered first",
    });
  }
  if (status === 401) {
    return new SecretwrapError("AUTH_FAILED", `${NAME}: vault ${vault ?? "?"} rejected the token (${tag})`, {
      hint: "the token is for another tenant or audience: set AZURE_TENANT_ID (or auth.tenantId) to the vault's tenant",
    });
  }
  if (status === 403) {
    return new SecretwrapError("ACCESS_DENIED", `${NAME}: reading ${what} was denied (${tag})`, {
      hint:
        inner === "SecretDisabled"
          ? "this secret version is disabled; enable it or reference another version"
          : 'grant the identity the "Key Vault Secrets User" role on the vault or secret (RBAC), or a Get secret permission (access policy); check the vault\'s firewall',
    });
  }
  if (isRetryableStatus(status)) {
    const headers = first?.response?.headers;
    const wait = headers === undefined ? undefined : retryAfterMs((name) => headers.get(name));
    return new SecretwrapError("FETCH_FAILED", `${NAME}: ${what}: Key Vault answered ${tag}`, {
      transient: true,
      ...(wait === undefined ? {} : { retryAfterMs: wait }),
    });
  }
  return new SecretwrapError("FETCH_FAILED", `${NAME}: ${what}: Key Vault answered ${tag}`);
}

function innerCode(details: unknown): string | undefined {
  const inner = (details as { error?: { innerError?: { code?: unknown } } } | undefined)?.error?.innerError
    ?.code;
  return typeof inner === "string" ? inner : undefined;
}

// ---------------------------------------------------------------------------------------------------
// Vault URLs and the session

/** `vaultUrls[name]`, else `endpoint`, else https://<name>.<dnsSuffix>. */
export function vaultUrlFor(vault: string, options: Options): string {
  const named = options.vaultUrls?.[vault] ?? options.vaultUrls?.[vault.toLowerCase()];
  const raw =
    named ?? options.endpoint ?? `https://${vault.toLowerCase()}.${options.dnsSuffix ?? "vault.azure.net"}`;
  return checkEndpoint(raw, NAME, options.allowHttp ?? false).href.replace(/\/+$/, "");
}

async function connect(raw: unknown, ctx: ProviderContext): Promise<Session> {
  const options = z.parse(Options, raw);
  const auth = options.auth ?? {};
  const tlsOptions =
    options.caFile === undefined
      ? {}
      : { tlsOptions: { ca: [...rootCertificates, readCaFile(options.caFile, NAME)] } };
  // Checked before the SDKs load: a bad URL is a config error whatever the credential.
  for (const url of [
    ...Object.values(options.vaultUrls ?? {}),
    ...(options.endpoint === undefined ? [] : [options.endpoint]),
  ]) {
    checkEndpoint(url, NAME, options.allowHttp ?? false);
  }
  const [{ SecretClient }, identity] = await Promise.all([
    import("@azure/keyvault-secrets"),
    import("@azure/identity"),
  ]);
  const method = chooseMethod(auth, ctx.env);
  ctx.log.debug("azurekeyvault credential", { method });
  const traffic: TokenTraffic = { last: undefined };
  const built = buildCredential(identity, method, auth, ctx, tlsOptions, traffic);
  const credential = new SharedCredential(built.create, method, traffic, ctx.addSecret);
  const firstRequests = new Map<string, Promise<unknown>>();
  const clients = new Map<string, InstanceType<typeof SecretClient>>();
  const clientFor = (url: string): InstanceType<typeof SecretClient> => {
    let client = clients.get(url);
    if (client === undefined) {
      client = new SecretClient(url, credential, {
        retryOptions: { maxRetries: 0 },
        userAgentOptions: { userAgentPrefix: "secretwrap" },
        allowInsecureConnection: url.startsWith("http:"),
        disableChallengeResourceVerification: options.disableChallengeResourceVerification ?? false,
        ...tlsOptions,
      });
      clients.set(url, client);
    }
    return client;
  };
  return {
    consumedEnv: built.consumedEnv,
    async fetch(ref: Ref, signal: AbortSignal): Promise<Fetched> {
      const [vault = "", name = "", version] = ref.locator.split("/");
      const url = vaultUrlFor(vault, options);
      // Key Vault's auth starts with a 401 challenge per client: let the first request of each vault
      // go alone, so the others start with the token instead of each collecting a challenge.
      const first = firstRequests.get(url);
      if (first !== undefined) await first.catch(() => undefined);
      let secret;
      try {
        const request = clientFor(url).getSecret(name, {
          abortSignal: signal,
          ...(version === undefined ? {} : { version }),
        });
        if (first === undefined) firstRequests.set(url, request);
        secret = await request;
      } catch (error) {
        throw vaultError(error, ref, url);
      }
      if (secret.value === undefined) {
        throw new SecretwrapError(
          "FETCH_FAILED",
          `${NAME}: secret ${name} in vault ${vault} came back without a value`,
        );
      }
      const bytes = Buffer.from(secret.value, "utf8");
      if (bytes.length > MAX_SECRET_BYTES) {
        throw new SecretwrapError(
          "FETCH_FAILED",
          `${NAME}: secret ${name} in vault ${vault} is larger than ${MAX_SECRET_BYTES} bytes`,
        );
      }
      return {
        bytes,
        ...(secret.properties.version === undefined ? {} : { version: secret.properties.version }),
      };
    },
    close: () => Promise.resolve(),
  };
}

export const provider: Provider = {
  scheme: NAME,
  validateOptions,
  connect: (options, ctx) => connect(options, ctx),
};
