// A wire-level Google Cloud for @google-cloud/secret-manager's REST transport (reference/protocols.md §3):
// Secret Manager (access, version metadata, addVersion: gcp-secret-manager.ts), a GCE metadata server
// and an STS token endpoint (workload identity federation). Every API request must carry a credential
// one of them issued or a self-signed JWT of a registered service account key, as Google checks it.
// Each part is a TestServer, so faults, latency and the request log come from the shared harness.
import { createVerify, generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto";
import {
  ACCESS,
  ADD_VERSION,
  GET_VERSION,
  projectNumber,
  SecretManagerApi,
  type Permission,
  type VersionState,
} from "./gcp-secret-manager.ts";
import { TestServer, type RecordedRequest, type Reply } from "./harness.ts";
import type { ServerCert } from "./tls.ts";

export { googleError, projectNumber, type Permission, type VersionState } from "./gcp-secret-manager.ts";

export interface ServiceAccountKey {
  readonly type: "service_account";
  readonly project_id: string;
  readonly private_key_id: string;
  readonly private_key: string;
  readonly client_email: string;
  readonly client_id: string;
  readonly auth_uri: string;
  readonly token_uri: string;
}

export interface GcpServerOptions {
  /** Serve Secret Manager over HTTPS with this certificate (the metadata server is always plain http, as on GCE). */
  readonly tls?: ServerCert;
  /** Added to every Secret Manager reply (benchmarks). */
  readonly latencyMs?: number;
  /** Appended to every error message the API sends, so a test can prove the client never echoes one. */
  readonly errorMessageExtra?: string;
}

const SCOPE = "https://www.googleapis.com/auth/cloud-platform";
/** The variables through which gcp-metadata and google-auth find this machine's own Google setup. */
const HOST_GOOGLE_VARIABLES = [
  "GOOGLE_APPLICATION_CREDENTIALS",
  "GCE_METADATA_HOST",
  "GCE_METADATA_IP",
  "METADATA_SERVER_DETECTION",
  "CLOUDSDK_CONFIG",
];

/** gcp-metadata reads its variables from process.env: keeps the host's Google setup out of this worker. */
export function isolateFromHostGoogle(): () => void {
  const saved = { ...process.env };
  for (const name of HOST_GOOGLE_VARIABLES) delete process.env[name];
  return () => {
    process.env = saved;
  };
}

export class FakeGcp {
  readonly api: TestServer;
  readonly metadata: TestServer;
  readonly sts: TestServer;
  /** Access tokens issued by the metadata server or STS (what the API accepts besides self-signed JWTs). */
  readonly issuedTokens = new Set<string>();
  readonly #secretManager: SecretManagerApi;
  readonly #keys = new Map<string, { email: string; publicKey: KeyObject }>();
  readonly #subjectTokens = new Map<string, string>();
  readonly metadataProject = "meta-project";
  /** expires_in of the access tokens the metadata server and STS issue. */
  tokenLifetimeSec = 3599;

  private constructor(api: TestServer, metadata: TestServer, sts: TestServer, extra: string) {
    this.#secretManager = new SecretManagerApi(extra);
    this.api = api;
    this.metadata = metadata;
    this.sts = sts;
  }

  static async start(options: GcpServerOptions = {}): Promise<FakeGcp> {
    // The handlers need the instance, which needs the started servers.
    const holder: { self?: FakeGcp } = {};
    const api = await TestServer.start({
      handler: (r) => (holder.self as FakeGcp).#serveApi(r),
      ...(options.tls === undefined ? {} : { tls: options.tls }),
      ...(options.latencyMs === undefined ? {} : { latencyMs: options.latencyMs }),
    });
    const metadata = await TestServer.start({ handler: (r) => (holder.self as FakeGcp).#serveMetadata(r) });
    const sts = await TestServer.start({ handler: (r) => (holder.self as FakeGcp).#serveSts(r) });
    const self = new FakeGcp(
      api,
      metadata,
      sts,
      options.errorMessageExtra === undefined ? "" : ` ${options.errorMessageExtra}`,
    );
    holder.self = self;
    return self;
  }

  async close(): Promise<void> {
    await Promise.all([this.api.close(), this.metadata.close(), this.sts.close()]);
  }

  /**
   * Adds versions to a secret (1..n for a new one; global, or regional with `location`) straight into
   * the store, for set-up; a rotation under test goes through the API (addVersion, gcp-writer.ts).
   * Returns the secret's resource name.
   */
  addSecret(
    project: string,
    secret: string,
    versions: readonly (string | Uint8Array)[],
    location?: string,
  ): string {
    return this.#secretManager.add(project, secret, versions, location);
  }

  setState(project: string, secret: string, version: number, state: VersionState, location?: string): void {
    this.#secretManager.setState(project, secret, version, state, location);
  }

  /** Every caller gets PERMISSION_DENIED reading this secret, as without any Secret Manager role. */
  deny(project: string, secret: string, location?: string): void {
    this.withhold(project, secret, ["secretmanager.versions.access", "secretmanager.versions.get"], location);
  }

  /**
   * Every caller is refused these permissions on this secret: e.g. secretmanager.versions.get alone
   * plays a workload holding only roles/secretmanager.secretAccessor.
   */
  withhold(project: string, secret: string, permissions: readonly Permission[], location?: string): void {
    this.#secretManager.withhold(project, secret, permissions, location);
  }

  /** A new service account key (RSA 2048, like Google's); the API accepts JWTs it signs. */
  serviceAccountKey(project = "key-project"): ServiceAccountKey {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const keyId = randomBytes(20).toString("hex");
    const email = `app-${randomBytes(3).toString("hex")}@${project}.iam.gserviceaccount.com`;
    this.#keys.set(keyId, { email, publicKey });
    return {
      type: "service_account",
      project_id: project,
      private_key_id: keyId,
      private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      client_email: email,
      client_id: String(100_000_000_000_000_000_000n + BigInt(randomBytes(4).readUInt32BE())),
      auth_uri: "https://accounts.google.com/o/oauth2/auth",
      token_uri: "https://oauth2.googleapis.com/token",
    };
  }

  /** A workload identity federation config (type external_account) reading its subject token from a file. */
  externalAccount(subjectTokenFile: string, subjectToken: string): Record<string, unknown> {
    const audience = `//iam.googleapis.com/projects/${projectNumber("wif-project")}/locations/global/workloadIdentityPools/pool/providers/${randomBytes(3).toString("hex")}`;
    this.#subjectTokens.set(subjectToken, audience);
    return {
      type: "external_account",
      audience,
      subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
      token_url: `${this.sts.url}/v1/token`,
      credential_source: { file: subjectTokenFile },
    };
  }

  /** Requests that reached AccessSecretVersion (`name`: of that version name, as requested). */
  accessCount(name?: string): number {
    return this.api.count((r) => {
      const requested = r.method === "GET" ? ACCESS.exec(r.path)?.[1] : undefined;
      return requested !== undefined && (name === undefined || requested === name);
    });
  }

  /** Requests that reached GetSecretVersion, the metadata-only call (`name`: that version name). */
  versionGets(name?: string): number {
    return this.api.count((r) => {
      const requested = r.method === "GET" ? GET_VERSION.exec(r.path)?.[1] : undefined;
      return requested !== undefined && (name === undefined || requested === name);
    });
  }

  /** Requests that reached AddSecretVersion (`parent`: of that secret, as requested). */
  addVersionCount(parent?: string): number {
    return this.api.count((r) => {
      const requested = r.method === "POST" ? ADD_VERSION.exec(r.path)?.[1] : undefined;
      return requested !== undefined && (parent === undefined || requested === parent);
    });
  }

  tokenRequests(): number {
    return this.metadata.count((r) =>
      r.path.startsWith("/computeMetadata/v1/instance/service-accounts/default/token"),
    );
  }

  /** Distinct Authorization headers the API saw (one per login, if tokens are cached). */
  distinctBearers(): number {
    return new Set(this.api.requests.map((r) => r.headers["authorization"])).size;
  }

  // ---- Secret Manager ----

  #serveApi(request: RecordedRequest): Reply {
    const known = [ACCESS, GET_VERSION, ADD_VERSION].some((route) => route.test(request.path));
    if (!known) {
      return this.#secretManager.error(
        404,
        "NOT_FOUND",
        `The requested URL ${request.path.split("?")[0] ?? ""} was not found on this server.`,
      );
    }
    const unauthenticated = this.#checkBearer(request.headers["authorization"]);
    if (unauthenticated !== undefined) {
      return this.#secretManager.error(
        401,
        "UNAUTHENTICATED",
        `Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. (${unauthenticated})`,
        {
          "www-authenticate": 'Bearer realm="https://accounts.google.com/"',
        },
      );
    }
    return (
      this.#secretManager.serve(request) ??
      this.#secretManager.error(405, "METHOD_NOT_ALLOWED", `Method ${request.method} is not allowed here.`)
    );
  }

  /** undefined when the credential is good, else why not (for the test reader; the SDK sees 401 only). */
  #checkBearer(header: string | string[] | undefined): string | undefined {
    if (typeof header !== "string" || !header.startsWith("Bearer ")) return "no bearer token";
    const token = header.slice("Bearer ".length);
    if (this.issuedTokens.has(token)) return undefined;
    return this.#checkSelfSignedJwt(token);
  }

  // Service account keys sign their own JWT for the API (GAPIC clients use self-signed JWTs with scopes).
  #checkSelfSignedJwt(token: string): string | undefined {
    const parts = token.split(".");
    if (parts.length !== 3) return "not a JWT";
    const [head = "", body = "", signature = ""] = parts;
    let header: { alg?: string; kid?: string };
    let claims: { iss?: string; sub?: string; scope?: string; aud?: string; iat?: number; exp?: number };
    try {
      header = JSON.parse(Buffer.from(head, "base64url").toString("utf8")) as typeof header;
      claims = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as typeof claims;
    } catch {
      return "unreadable JWT";
    }
    const key = header.kid === undefined ? undefined : this.#keys.get(header.kid);
    if (header.alg !== "RS256" || key === undefined) return "unknown key id";
    const verifier = createVerify("RSA-SHA256");
    verifier.update(`${head}.${body}`);
    if (!verifier.verify(key.publicKey, Buffer.from(signature, "base64url"))) return "bad signature";
    if (claims.iss !== key.email || claims.sub !== key.email)
      return "issuer is not the key's service account";
    const scoped =
      (claims.scope ?? "").split(" ").includes(SCOPE) ||
      claims.aud === "https://secretmanager.googleapis.com/";
    if (!scoped) return "no cloud-platform scope";
    const now = Date.now() / 1000;
    if (
      claims.exp === undefined ||
      claims.iat === undefined ||
      claims.exp < now ||
      claims.iat > now + 300 ||
      claims.exp - claims.iat > 3600
    ) {
      return "expired or too long-lived";
    }
    return undefined;
  }

  #issue(): string {
    const token = `ya29.${randomBytes(24).toString("base64url")}`;
    this.issuedTokens.add(token);
    return token;
  }

  // ---- GCE metadata server (also GKE Workload Identity and Cloud Run) ----

  #serveMetadata(request: RecordedRequest): Reply {
    const text = (status: number, body: string, type = "application/text"): Reply => ({
      status,
      body,
      headers: { "metadata-flavor": "Google", "content-type": type },
    });
    // The real server refuses requests without the header, and proxied ones (SSRF protection).
    if (request.headers["metadata-flavor"] !== "Google")
      return text(403, "Missing required header: Metadata-Flavor: Google\n", "text/html");
    if (request.headers["x-forwarded-for"] !== undefined)
      return text(403, "Request forbidden: X-Forwarded-For\n", "text/html");
    const path = request.path.split("?")[0] ?? "";
    switch (path) {
      case "/":
        return text(200, "computeMetadata/\n");
      case "/computeMetadata/v1/instance":
      case "/computeMetadata/v1/instance/":
        return text(200, "attributes/\nhostname\nid\nservice-accounts/\nzone\n");
      case "/computeMetadata/v1/project/project-id":
        return text(200, this.metadataProject);
      case "/computeMetadata/v1/project/numeric-project-id":
        return text(200, projectNumber(this.metadataProject));
      case "/computeMetadata/v1/universe/universe-domain":
        return text(200, "googleapis.com");
      case "/computeMetadata/v1/instance/service-accounts/default/email":
        return text(200, `workload@${this.metadataProject}.iam.gserviceaccount.com`);
      case "/computeMetadata/v1/instance/service-accounts/default/token":
        return {
          status: 200,
          headers: { "metadata-flavor": "Google", "content-type": "application/json" },
          body: { access_token: this.#issue(), expires_in: this.tokenLifetimeSec, token_type: "Bearer" },
        };
      default:
        return text(404, "Not Found\n", "text/html");
    }
  }

  // ---- STS token exchange (workload identity federation) ----

  #serveSts(request: RecordedRequest): Reply {
    const oauthError = (error: string, description: string): Reply => ({
      status: 400,
      body: { error, error_description: description },
    });
    if (request.method !== "POST" || (request.path.split("?")[0] ?? "") !== "/v1/token")
      return { status: 404, body: { error: "not_found" } };
    const form = new URLSearchParams(request.body);
    if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:token-exchange")
      return oauthError("unsupported_grant_type", "grant_type");
    const audience = this.#subjectTokens.get(form.get("subject_token") ?? "");
    if (audience === undefined) return oauthError("invalid_grant", "The subject token is invalid.");
    if (form.get("audience") !== audience)
      return oauthError(
        "invalid_target",
        'The target service indicated by the "audience" parameters is invalid.',
      );
    if (!(form.get("scope") ?? "").split(" ").includes(SCOPE)) return oauthError("invalid_scope", "scope");
    return {
      status: 200,
      body: {
        access_token: this.#issue(),
        issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
        token_type: "Bearer",
        expires_in: this.tokenLifetimeSec,
      },
    };
  }
}
