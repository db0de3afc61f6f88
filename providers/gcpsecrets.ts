// ref+gcpsecrets://<project>/<secret>[?version=N|latest][&location=<region>][#field]: Google Secret
// Manager, through @google-cloud/secret-manager and Application Default Credentials read from the
// environment secretwrap started with: a credentials file (GOOGLE_APPLICATION_CREDENTIALS, or the
// config's credentialsFile: service account key, workload identity federation, user), gcloud's user
// ADC file, else the metadata server (GCE, GKE Workload Identity, Cloud Run; GCE_METADATA_HOST honoured).
//
// Transport: the REST fallback (HTTP/1.1 + JSON), not gRPC. Both load the same modules (the generated
// client requires google-gax, and with it grpc-js, either way), so start-up differs only in the first
// connection, where REST was as fast or faster (see docs/providers/gcpsecrets.md); REST also carries a
// bearer token to a loopback http:// endpoint (grpc-js refuses call credentials on insecure channels),
// takes an extra CA per client through a plain https.Agent, and gax 5 never retries REST calls, so the
// one retry layer (src/retry.ts) decides. Retries are also switched off per call for newer gax versions.
import { AsyncLocalStorage } from "node:async_hooks";
import { existsSync, readFileSync, statSync } from "node:fs";
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { join } from "node:path";
import type { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import type { GoogleAuth } from "google-gax";
import { boolean, optional, safeParse, string, strictObject, type infer as Infer } from "zod/mini";
import type { Ref } from "../src/config/ref.ts";
import { toIssues } from "../src/config/issues.ts";
import { checkEndpoint, readCaFile, trustingAlso } from "../src/endpoint.ts";
import { SecretwrapError } from "../src/errors.ts";
import { commonJs } from "../src/interop.ts";
import { MAX_SECRET_BYTES } from "../src/limits.ts";
import { TLS_FAILURE, TRANSIENT_NETWORK_CODES } from "../src/network.ts";
import type { Fetched, Provider, ProviderContext, Session } from "../src/provider.ts";

const NAME = "gcpsecrets";
const SCOPE = "https://www.googleapis.com/auth/cloud-platform";
const GLOBAL_HOST = "secretmanager.googleapis.com";
/** A credentials file is a few KiB; anything much larger is not one. */
const MAX_CREDENTIALS_BYTES = 256 * 1024;

const Options = strictObject({
  /** Base URL for every request (private endpoint, emulator, tests); default: Google's global or regional host. */
  endpoint: optional(string()),
  caFile: optional(string()),
  allowHttp: optional(boolean()),
  /** A credentials JSON file, like GOOGLE_APPLICATION_CREDENTIALS (which it overrides). */
  credentialsFile: optional(string()),
});
type GcpOptions = Infer<typeof Options>;
type Env = ProviderContext["env"];

// ---- where the request goes ----

export interface Target {
  readonly name: string;
  readonly location: string | undefined;
}

/** The resource name AccessSecretVersion takes, from a reference already checked by src/config/ref.ts. */
export function targetOf(ref: Ref): Target {
  const [project, secret] = ref.locator.split("/") as [string, string];
  const version = ref.params["version"] ?? "latest";
  const location = ref.params["location"];
  const parent = location === undefined ? `projects/${project}` : `projects/${project}/locations/${location}`;
  return { name: `${parent}/secrets/${secret}/versions/${version}`, location };
}

/** Regional secrets live only on their region's endpoint (Google's regional samples). */
export function defaultHost(location: string | undefined): string {
  return location === undefined ? GLOBAL_HOST : `secretmanager.${location}.rep.googleapis.com`;
}

// ---- credentials ----

export type CredentialSource =
  | { readonly kind: "file"; readonly path: string; readonly from: string }
  | { readonly kind: "metadata"; readonly explicitHost: boolean };

/** Application Default Credentials order, from the given environment only. */
export function credentialSource(options: GcpOptions, env: Env): CredentialSource {
  if (options.credentialsFile !== undefined)
    return { kind: "file", path: options.credentialsFile, from: "credentialsFile" };
  const fromEnv = env["GOOGLE_APPLICATION_CREDENTIALS"];
  if (fromEnv !== undefined && fromEnv !== "")
    return { kind: "file", path: fromEnv, from: "GOOGLE_APPLICATION_CREDENTIALS" };
  const gcloudDir =
    env["CLOUDSDK_CONFIG"] ??
    (env["HOME"] === undefined ? undefined : join(env["HOME"], ".config", "gcloud"));
  if (gcloudDir !== undefined) {
    const adc = join(gcloudDir, "application_default_credentials.json");
    if (existsSync(adc)) return { kind: "file", path: adc, from: "gcloud application-default credentials" };
  }
  const explicitHost = [env["GCE_METADATA_HOST"], env["GCE_METADATA_IP"]].some(
    (v) => v !== undefined && v !== "",
  );
  return { kind: "metadata", explicitHost };
}

const CREDENTIAL_TYPES = new Set([
  "service_account",
  "authorized_user",
  "external_account",
  "external_account_authorized_user",
  "impersonated_service_account",
]);
/** Fields of a credentials file that are themselves credentials: masked in every output. */
const SECRET_FIELDS = ["private_key", "refresh_token", "client_secret"] as const;
/** Fields of a credentials file that say where it sends tokens or subject tokens. */
const URL_FIELDS = ["token_url", "service_account_impersonation_url", "token_info_url"] as const;

function readCredentials(
  path: string,
  from: string,
  options: GcpOptions,
  ctx: ProviderContext,
): Record<string, unknown> {
  const bad = (why: string): SecretwrapError =>
    new SecretwrapError("CONFIG_INVALID", `${NAME}: credentials file ${path} (from ${from}) ${why}`, {
      subject: { provider: NAME },
      hint: "point GOOGLE_APPLICATION_CREDENTIALS at a service account key, workload identity federation config or `gcloud auth application-default login` file",
    });
  let text: string;
  try {
    if (statSync(path).size > MAX_CREDENTIALS_BYTES) throw bad("is too large to be a credentials file");
    text = readFileSync(path, "utf8");
  } catch (error) {
    if (error instanceof SecretwrapError) throw error;
    throw bad(`cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw bad("is not JSON");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw bad("is not a JSON object");
  const record = json as Record<string, unknown>;
  for (const field of SECRET_FIELDS) {
    const value = record[field];
    if (typeof value === "string" && value !== "") ctx.addSecret(value);
  }
  const type = record["type"];
  if (typeof type !== "string" || !CREDENTIAL_TYPES.has(type)) {
    throw bad(`has an unsupported "type" (supported: ${[...CREDENTIAL_TYPES].join(", ")})`);
  }
  // A token exchange sends a subject token: never over plain http to another host.
  for (const field of URL_FIELDS) {
    const url = record[field];
    if (typeof url === "string") checkEndpoint(url, NAME, options.allowHttp ?? false);
  }
  return record;
}

/** gcp-metadata reads these from process.env on every call and takes no option for them. */
const METADATA_VARIABLES = ["GCE_METADATA_HOST", "GCE_METADATA_IP", "METADATA_SERVER_DETECTION"] as const;

function useMetadataEnv(env: Env): void {
  for (const name of METADATA_VARIABLES) {
    const value = env[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}

// ---- transport: one agent per run (extra CA, keep-alive) and the caller's abort signal ----

/** The abort signal of the attempt a request belongs to, carried through the SDK's promise chain. */
const attemptSignal = new AsyncLocalStorage<AbortSignal>();

interface Transport {
  readonly protocol: "http" | "https";
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly agent: HttpAgent | HttpsAgent;
}

function transportFor(options: GcpOptions): Transport {
  const ca = options.caFile === undefined ? undefined : trustingAlso(readCaFile(options.caFile, NAME));
  if (options.endpoint === undefined) {
    return {
      protocol: "https",
      host: undefined,
      port: undefined,
      agent: new HttpsAgent({ keepAlive: true, ...ca }),
    };
  }
  const url = checkEndpoint(options.endpoint, NAME, options.allowHttp ?? false);
  if (url.pathname !== "/" || url.search !== "") {
    throw new SecretwrapError(
      "CONFIG_INVALID",
      `${NAME}: endpoint must be a base URL without a path (got ${url.origin}${url.pathname})`,
      {
        subject: { provider: NAME },
      },
    );
  }
  const https = url.protocol === "https:";
  return {
    protocol: https ? "https" : "http",
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: url.port === "" ? (https ? 443 : 80) : Number(url.port),
    agent: https ? new HttpsAgent({ keepAlive: true, ...ca }) : new HttpAgent({ keepAlive: true }),
  };
}

interface GaxiosLikeConfig {
  agent?: unknown;
  signal?: AbortSignal;
  url?: unknown;
}

interface InterceptableClient {
  readonly transporter: {
    readonly interceptors: {
      readonly request: { add(i: { resolved: (c: GaxiosLikeConfig) => GaxiosLikeConfig }): void };
    };
  };
}

/** Every request the auth client sends (API calls, token exchanges) uses our agent and the attempt's signal. */
function intercept(client: InterceptableClient, transport: Transport): void {
  const http = new HttpAgent({ keepAlive: true });
  client.transporter.interceptors.request.add({
    resolved(config) {
      const url =
        typeof config.url === "string" ? config.url : config.url instanceof URL ? config.url.href : "";
      config.agent = url.startsWith("http:")
        ? transport.protocol === "http"
          ? transport.agent
          : http
        : transport.agent;
      const signal = attemptSignal.getStore();
      if (signal !== undefined)
        config.signal = config.signal === undefined ? signal : AbortSignal.any([config.signal, signal]);
      return config;
    },
  });
}

// ---- the payload checksum ----

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC32C (Castagnoli), as Secret Manager reports it in payload.data_crc32c. */
export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (CRC32C_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

// ---- error mapping: only codes and statuses reach a message, never an SDK message or body ----

/** gRPC status codes (google.rpc.Code) by name, for errors that carry the name only. */
const GRPC_CODES: Record<string, number> = {
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
};
const GRPC_NAMES = Object.fromEntries(Object.entries(GRPC_CODES).map(([k, v]) => [v, k]));
const TRANSIENT_GRPC = new Set([4, 8, 10, 13, 14]);

export interface FailureFacts {
  /** HTTP status of the reply, when there was one. */
  readonly http?: number;
  /** gRPC status (google.rpc.Code), from a gax error or the JSON error body's "status". */
  readonly grpc?: number;
  /** A Node/OS error code (ECONNRESET, CERT_HAS_EXPIRED). */
  readonly errno?: string;
  readonly retryAfterMs?: number;
}

/** Reads what is safe to know from an SDK error: numbers and enum names, nothing free-form. */
export function factsOf(error: unknown): FailureFacts {
  const facts: { http?: number; grpc?: number; errno?: string; retryAfterMs?: number } = {};
  const seen = new Set<unknown>();
  for (
    let e: unknown = error;
    typeof e === "object" && e !== null && !seen.has(e);
    e = (e as { cause?: unknown }).cause
  ) {
    seen.add(e);
    const o = e as {
      code?: unknown;
      status?: unknown;
      errno?: unknown;
      response?: { status?: unknown; data?: unknown; headers?: unknown };
    };
    const response = o.response;
    if (facts.http === undefined && typeof response?.status === "number") facts.http = response.status;
    if (facts.http === undefined && typeof o.status === "number" && o.status >= 100) facts.http = o.status;
    if (typeof o.code === "number" && o.code >= 0 && o.code <= 16 && !(e instanceof Error && "response" in e))
      facts.grpc ??= o.code;
    if (typeof o.code === "string" && /^[A-Z0-9_]+$/.test(o.code) && o.code !== "ERR_BAD_RESPONSE")
      facts.errno ??= o.code;
    const name = statusName(response?.data);
    const named = name === undefined ? undefined : GRPC_CODES[name];
    if (named !== undefined) facts.grpc ??= named;
    const retryAfter = retryAfterMs(response?.headers);
    if (retryAfter !== undefined) facts.retryAfterMs ??= retryAfter;
  }
  return facts;
}

function statusName(data: unknown): string | undefined {
  let body = data;
  if (typeof body === "string") {
    try {
      body = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  const status = (body as { error?: { status?: unknown } } | undefined)?.error?.status;
  return typeof status === "string" && Object.hasOwn(GRPC_CODES, status) ? status : undefined;
}

function retryAfterMs(headers: unknown): number | undefined {
  let raw: unknown;
  // node-fetch's Headers is not the global class: recognise it by shape.
  if (typeof (headers as { get?: unknown } | undefined)?.get === "function")
    raw = (headers as Headers).get("retry-after");
  else if (typeof headers === "object" && headers !== null)
    raw = (headers as Record<string, unknown>)["retry-after"];
  if (typeof raw !== "string") return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** One failure, classified by the HTTP status first (REST), then the gRPC status, then the OS error. */
export function mapFailure(error: unknown, what: string, stage: "login" | "fetch"): SecretwrapError {
  const facts = factsOf(error);
  const grpc = facts.grpc === undefined ? "" : ` ${GRPC_NAMES[facts.grpc] ?? facts.grpc}`;
  const status = facts.http === undefined ? grpc.trim() : `HTTP ${facts.http}${grpc}`;
  const retry = facts.retryAfterMs === undefined ? {} : { retryAfterMs: facts.retryAfterMs };
  const subject = { provider: NAME };
  const code = facts.http ?? httpOf(facts.grpc);
  if (code === 404 && stage === "fetch") {
    return new SecretwrapError("SECRET_NOT_FOUND", `${what}: not found (${status})`, { subject });
  }
  if (code === 401 || (stage === "login" && (code === 400 || code === 403 || code === 404))) {
    return new SecretwrapError(
      "AUTH_FAILED",
      `${what}: ${stage === "login" ? "could not obtain a Google access token" : "the credentials were rejected"} (${status})`,
      {
        subject,
        hint: "check the credentials (GOOGLE_APPLICATION_CREDENTIALS, the service account attached to the workload, or the workload identity pool)",
      },
    );
  }
  if (code === 403) {
    return new SecretwrapError("ACCESS_DENIED", `${what}: permission denied (${status})`, {
      subject,
      hint: "grant the workload's service account roles/secretmanager.secretAccessor on the secret or project",
    });
  }
  if (facts.grpc === 9) {
    return new SecretwrapError("FETCH_FAILED", `${what}: the secret version is not enabled (${status})`, {
      subject,
      hint: "pick an enabled version (the version may be disabled or destroyed)",
    });
  }
  if (
    code !== undefined &&
    (code === 408 ||
      code === 429 ||
      code >= 500 ||
      (facts.grpc !== undefined && TRANSIENT_GRPC.has(facts.grpc)))
  ) {
    return new SecretwrapError("FETCH_FAILED", `${what}: Secret Manager unavailable (${status})`, {
      subject,
      transient: true,
      ...retry,
    });
  }
  if (code !== undefined)
    return new SecretwrapError("FETCH_FAILED", `${what}: request refused (${status})`, { subject });
  if (facts.errno !== undefined && TLS_FAILURE.test(facts.errno)) {
    return new SecretwrapError("FETCH_FAILED", `${what}: TLS verification failed (${facts.errno})`, {
      subject,
      hint: "the server's certificate is not trusted for this name; set caFile in the providers.gcpsecrets block if it uses a private CA",
    });
  }
  if (facts.errno !== undefined && TRANSIENT_NETWORK_CODES.has(facts.errno)) {
    return new SecretwrapError("FETCH_FAILED", `${what}: connection failed (${facts.errno})`, {
      subject,
      transient: true,
    });
  }
  // A body that broke off mid-way fails to parse: worth one more try, like any torn connection.
  if (error instanceof SyntaxError) {
    return new SecretwrapError("FETCH_FAILED", `${what}: the reply could not be read`, {
      subject,
      transient: true,
    });
  }
  const kind = error instanceof Error ? error.name : typeof error;
  if (stage === "login") {
    // e.g. a key that cannot sign, or a subject token file that cannot be read: retrying will not help.
    return new SecretwrapError(
      "AUTH_FAILED",
      `${what}: ${kind}${facts.errno === undefined ? "" : ` (${facts.errno})`}`,
      { subject, cause: error },
    );
  }
  return new SecretwrapError(
    "FETCH_FAILED",
    `${what}: ${kind}${facts.errno === undefined ? "" : ` (${facts.errno})`}`,
    { subject, cause: error },
  );
}

function httpOf(grpc: number | undefined): number | undefined {
  switch (grpc) {
    case undefined:
      return undefined;
    case 5:
      return 404;
    case 7:
      return 403;
    case 16:
      return 401;
    case 3:
    case 9:
    case 11:
      return 400;
    case 8:
      return 429;
    case 12:
      return 501;
    case 4:
      return 504;
    case 14:
      return 503;
    default:
      return 500;
  }
}

// ---- the session ----

type Sdk = typeof import("@google-cloud/secret-manager");
type Gax = typeof import("google-gax");

interface AccessResponse {
  readonly name?: string | null;
  readonly payload?: {
    readonly data?: Uint8Array | string | null;
    readonly dataCrc32c?: string | number | { toString(): string } | null;
  } | null;
}

class GcpSession implements Session {
  readonly consumedEnv: readonly string[] = [];
  readonly #clients = new Map<string, SecretManagerServiceClient>();
  readonly #sdk: Sdk;
  readonly #auth: GoogleAuth;
  readonly #transport: Transport;
  readonly #ctx: ProviderContext;

  constructor(sdk: Sdk, auth: GoogleAuth, transport: Transport, ctx: ProviderContext) {
    this.#sdk = sdk;
    this.#auth = auth;
    this.#transport = transport;
    this.#ctx = ctx;
  }

  client(location: string | undefined): SecretManagerServiceClient {
    const host = this.#transport.host ?? defaultHost(location);
    let client = this.#clients.get(host);
    if (client === undefined) {
      client = new this.#sdk.SecretManagerServiceClient({
        fallback: true,
        protocol: this.#transport.protocol,
        apiEndpoint: host,
        ...(this.#transport.port === undefined ? {} : { port: this.#transport.port }),
        auth: this.#auth,
      });
      this.#clients.set(host, client);
    }
    return client;
  }

  async fetch(ref: Ref, signal: AbortSignal): Promise<Fetched> {
    const { name, location } = targetOf(ref);
    const client = this.client(location);
    let response: AccessResponse;
    try {
      [response] = await attemptSignal.run(signal, () =>
        client.accessSecretVersion(
          { name },
          { timeout: this.#ctx.attemptTimeoutMs, retry: { retryCodes: [] }, maxRetries: 0 },
        ),
      );
    } catch (error) {
      throw mapFailure(error, name, "fetch");
    }
    const data = response.payload?.data;
    const bytes = typeof data === "string" ? Buffer.from(data, "base64") : (data ?? new Uint8Array());
    if (bytes.byteLength > MAX_SECRET_BYTES) {
      throw new SecretwrapError(
        "FETCH_FAILED",
        `${name}: the value is larger than ${MAX_SECRET_BYTES} bytes`,
        { subject: { provider: NAME } },
      );
    }
    const expected = response.payload?.dataCrc32c;
    // Versions written without a checksum carry none; a checksum that is there must match.
    if (expected !== undefined && expected !== null && String(expected) !== String(crc32c(bytes))) {
      throw new SecretwrapError("FETCH_FAILED", `${name}: the payload failed its CRC32C check`, {
        subject: { provider: NAME },
        transient: true,
        hint: "the value was corrupted in transit; it is fetched again",
      });
    }
    const served = response.name?.split("/").pop();
    return served === undefined || served === "" ? { bytes } : { bytes, version: served };
  }

  async close(): Promise<void> {
    await Promise.all([...this.#clients.values()].map((c) => c.close()));
    this.#transport.agent.destroy();
  }
}

async function connect(raw: unknown, ctx: ProviderContext, signal: AbortSignal): Promise<Session> {
  const options = raw as GcpOptions;
  const transport = transportFor(options);
  const source = credentialSource(options, ctx.env);
  const credentials =
    source.kind === "file" ? readCredentials(source.path, source.from, options, ctx) : undefined;
  useMetadataEnv(ctx.env);
  const [sdk, gax]: [Sdk, Gax] = await Promise.all([
    import("@google-cloud/secret-manager").then(commonJs),
    import("google-gax").then(commonJs),
  ]);
  const gal = gax.googleAuthLibrary;
  const what = source.kind === "file" ? `login with ${source.from}` : "login with the metadata server";
  if (source.kind === "metadata" && !source.explicitHost) {
    // Off GCP the metadata host does not exist: say so now instead of failing every secret.
    gal.gcpMetadata.resetIsAvailableCache();
    if (!(await gal.gcpMetadata.isAvailable())) {
      throw new SecretwrapError("AUTH_FAILED", `${NAME}: no Google credentials found`, {
        subject: { provider: NAME },
        hint: "set GOOGLE_APPLICATION_CREDENTIALS to a key or workload identity federation file, run `gcloud auth application-default login`, or run on GCP with a service account attached",
      });
    }
  }
  const auth =
    credentials === undefined
      ? new gal.GoogleAuth({ authClient: new gal.Compute({ scopes: [SCOPE] }) })
      : new gal.GoogleAuth({ credentials, scopes: [SCOPE] });
  const session = new GcpSession(sdk, auth, transport, ctx);
  // The generated client marks the auth as a GAPIC one (service account keys then sign their own JWTs,
  // as in production); only then is the auth client made, and its first token taken here, once.
  session.client(undefined);
  try {
    const client = await attemptSignal.run(signal, () => auth.getClient());
    intercept(client as unknown as InterceptableClient, transport);
    const headers = await attemptSignal.run(signal, () =>
      client.getRequestHeaders(`https://${GLOBAL_HOST}/`),
    );
    const authorization = headers.get("authorization");
    if (authorization === null)
      throw new SecretwrapError("AUTH_FAILED", `${NAME}: ${what}: no access token was issued`, {
        subject: { provider: NAME },
      });
    ctx.addSecret(authorization.replace(/^Bearer\s+/i, ""));
  } catch (error) {
    await session.close();
    if (error instanceof SecretwrapError) throw error;
    throw mapFailure(error, `${NAME}: ${what}`, "login");
  }
  return session;
}

export const provider: Provider = {
  scheme: NAME,
  validateOptions: (options) => {
    const result = safeParse(Options, options);
    return result.success ? [] : toIssues(result.error.issues);
  },
  connect,
};
