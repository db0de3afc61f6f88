// A wire-level Vault for provider and end-to-end tests, following reference/protocols.md §1: the
// /v1 envelope, `{"errors":[…]}` bodies and their status codes, token/AppRole/Kubernetes/JWT logins,
// KV v1 and v2 (versions, deleted and destroyed versions, writes, metadata), mount detection through
// sys/internal/ui/mounts, database/creds leases, response wrapping (single use), token TTLs and
// namespaces (X-Vault-Namespace). Leases and tokens have real lifecycles (vault-lifecycle.ts: TTL,
// max TTL, expiry, renewal, revocation). Sealing and standby redirects are switches; every other fault
// (status sequences, hang, reset, slow body, latency) comes from the shared harness, which also records
// every request so tests count logins and reads.
//
// `VaultBackend` is the admin side the tests use; `RealVault` implements it against a real Vault dev
// server (SECRETWRAP_TEST_VAULT_ADDR + SECRETWRAP_TEST_VAULT_TOKEN) with the same calls.
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { reply, TestServer, type RecordedRequest, type Reply, type TestServerOptions } from "./harness.ts";
import {
  authBody,
  type DatabaseRole,
  type LeaseState,
  type LifecycleEvent,
  Lifecycles,
  type LifecycleKind,
  newToken,
  tokenAlive,
  type TokenOptions,
  type TokenState,
} from "./vault-lifecycle.ts";
import { allowed, envelope, errors, INVALID_TOKEN, ok, PERMISSION_DENIED } from "./vault-wire.ts";

export type { LeaseState, LifecycleEvent, LifecycleKind } from "./vault-lifecycle.ts";

export type Policy = readonly string[];

/** What the tests need from any Vault, fake or real. Paths are given without /v1. */
export interface VaultBackend {
  readonly url: string;
  readonly rootToken: string;
  readonly real: boolean;
  /** Mounts a KV engine at a fresh path derived from `hint`; returns the mount path without slash. */
  mountKv(hint: string, version: 1 | 2): Promise<string>;
  /** Writes a KV secret; for KV v2 returns the new version. */
  putKv(mount: string, path: string, data: Record<string, unknown>): Promise<number | undefined>;
  deleteVersion(mount: string, path: string, version: number): Promise<void>;
  destroyVersion(mount: string, path: string, version: number): Promise<void>;
  /** A token that may read exactly these API paths (a trailing * matches a prefix). */
  createToken(policy: Policy, ttlSeconds?: number): Promise<string>;
  /** An AppRole at auth/<mount>; returns its role_id and a way to mint SecretIDs. */
  addAppRole(role: string, policy: Policy): Promise<AppRoleHandle>;
  close(): Promise<void>;
}

export interface AppRoleHandle {
  readonly mount: string;
  readonly roleId: string;
  secretId(): Promise<string>;
  /** A response-wrapped SecretID: the wrapping token. */
  wrappedSecretId(ttlSeconds?: number): Promise<string>;
}

interface Kv2Version {
  readonly data: Record<string, unknown>;
  readonly created: string;
  deletion: string;
  destroyed: boolean;
}

type Mount =
  | {
      readonly type: "kv";
      readonly version: 1 | 2;
      readonly data: Map<string, Record<string, unknown>>;
      readonly versions: Map<string, Kv2Version[]>;
    }
  | {
      readonly type: "pki";
      /** Every certificate issued, in order (pki/issue/:role writes that reached the handler). */
      readonly issued: IssuedCertificate[];
    }
  | {
      readonly type: "database";
      /** Credentials per role (tests may set a generator directly; leases then get the defaults). */
      readonly roles: Map<string, () => Record<string, string>>;
      /** Lease TTLs per role (addDatabaseRole). */
      readonly leases: Map<string, Omit<DatabaseRole, "credentials">>;
    };

/** One pki/issue answer's data: what the fake issued, for tests to match delivered values against. */
export interface IssuedCertificate {
  readonly serial_number: string;
  readonly certificate: string;
  readonly private_key: string;
  readonly common_name: string;
}

interface AppRole {
  readonly roleId: string;
  readonly secretIds: Map<string, { uses: number; expiresAt: number }>;
  readonly policy: Policy;
  readonly token: TokenSettings;
}

interface JwtRole {
  readonly policy: Policy;
  /** Claims the JWT must carry with exactly these values (bound_claims / bound_audiences / bound SA). */
  readonly bound: Readonly<Record<string, string>>;
  readonly token: TokenSettings;
}

/** The tokens a role's logins get: token_ttl, token_max_ttl (0: the system max), renewable. */
interface TokenSettings {
  readonly ttl: number;
  readonly maxTtl: number;
  readonly renewable: boolean;
}

/** A login role's options (addAppRole, addJwtRole). */
export interface RoleOptions {
  readonly mount?: string;
  readonly namespace?: string;
  /** token_ttl in seconds (default 3600). */
  readonly tokenTtl?: number;
  /** token_max_ttl in seconds (default: the system max, 32 days). */
  readonly tokenMaxTtl?: number;
  /** Whether its tokens may be renewed (default true). */
  readonly tokenRenewable?: boolean;
}

function tokenSettings(options: RoleOptions): TokenSettings {
  return {
    ttl: options.tokenTtl ?? 3600,
    maxTtl: options.tokenMaxTtl ?? 0,
    renewable: options.tokenRenewable ?? true,
  };
}

type AuthMount =
  | { readonly type: "approle"; readonly roles: Map<string, AppRole> }
  | { readonly type: "kubernetes" | "jwt"; readonly roles: Map<string, JwtRole> };

interface Wrap {
  readonly creationPath: string;
  readonly response: object;
  readonly expiresAt: number;
}

/** One namespace: its own mounts, auth methods and tokens (root tokens also work in child namespaces). */
export class VaultNamespace {
  readonly mounts = new Map<string, Mount>();
  readonly auth = new Map<string, AuthMount>();
  readonly tokens = new Map<string, TokenState>();
  readonly wraps = new Map<string, Wrap>();
}

const KV1_TTL = 2_764_800;

export interface FakeVaultOptions {
  readonly tls?: TestServerOptions["tls"];
  readonly latencyMs?: number;
}

export class FakeVault implements VaultBackend {
  readonly real = false;
  readonly server: TestServer;
  readonly rootToken = `hvs.root${randomBytes(12).toString("hex")}`;
  /** Every 503 "Vault is sealed" until set back to false. */
  sealed = false;
  /** When set, every request is answered 307 to this origin (a standby node). */
  standbyFor: string | undefined;
  /** Leases, token renewals and revocations, the refusal switches and the event log (vault-lifecycle.ts). */
  readonly lifecycle = new Lifecycles();
  readonly #namespaces = new Map<string, VaultNamespace>();
  readonly #jwtKey = randomBytes(32);
  #counter = 0;

  private constructor(server: TestServer) {
    this.server = server;
  }

  static async start(options: FakeVaultOptions = {}): Promise<FakeVault> {
    // The server needs the handler before the FakeVault that owns the server exists.
    const self: { vault?: FakeVault } = {};
    const server = await TestServer.start({
      handler: (request) => (self.vault as FakeVault).handle(request),
      ...(options.tls === undefined ? {} : { tls: options.tls }),
      ...(options.latencyMs === undefined ? {} : { latencyMs: options.latencyMs }),
    });
    const vault = new FakeVault(server);
    self.vault = vault;
    vault.ns().tokens.set(vault.rootToken, newToken(["*"], randomUUID(), { ttl: 0 }));
    return vault;
  }

  get url(): string {
    return this.server.url;
  }

  ns(name = ""): VaultNamespace {
    const key = name.replace(/^\/+|\/+$/g, "");
    let ns = this.#namespaces.get(key);
    if (ns === undefined) {
      ns = new VaultNamespace();
      this.#namespaces.set(key, ns);
    }
    return ns;
  }

  // -- admin (VaultBackend) ---------------------------------------------------------------------------

  mountKv(hint: string, version: 1 | 2, namespace = ""): Promise<string> {
    this.ns(namespace).mounts.set(`${hint}/`, { type: "kv", version, data: new Map(), versions: new Map() });
    return Promise.resolve(hint);
  }

  putKv(
    mount: string,
    path: string,
    data: Record<string, unknown>,
    namespace = "",
  ): Promise<number | undefined> {
    const m = this.#kv(mount, namespace);
    if (m.version === 1) {
      m.data.set(path, data);
      return Promise.resolve(undefined);
    }
    return Promise.resolve(this.#writeKv2(m, `${mount}/${path}`, path, data));
  }

  #writeKv2(
    m: Extract<Mount, { type: "kv" }>,
    fullPath: string,
    path: string,
    data: Record<string, unknown>,
  ): number {
    const versions = m.versions.get(path) ?? [];
    versions.push({ data, created: new Date().toISOString(), deletion: "", destroyed: false });
    m.versions.set(path, versions);
    this.lifecycle.event("kv-write", { path: fullPath, version: versions.length });
    return versions.length;
  }

  deleteVersion(mount: string, path: string, version: number, namespace = ""): Promise<void> {
    const v = this.#kv(mount, namespace).versions.get(path)?.[version - 1];
    if (v !== undefined) v.deletion = new Date().toISOString();
    return Promise.resolve();
  }

  destroyVersion(mount: string, path: string, version: number, namespace = ""): Promise<void> {
    const v = this.#kv(mount, namespace).versions.get(path)?.[version - 1];
    if (v !== undefined) v.destroyed = true;
    return Promise.resolve();
  }

  createToken(policy: Policy, ttlSeconds = 3600, namespace = ""): Promise<string> {
    return Promise.resolve(this.createTokenWith(policy, { ttl: ttlSeconds }, namespace));
  }

  addAppRole(role: string, policy: Policy, options: RoleOptions = {}): Promise<AppRoleHandle> {
    const mount = options.mount ?? "approle";
    const ns = this.ns(options.namespace);
    const auth = this.#authMount(ns, mount, "approle");
    const entry: AppRole = {
      roleId: randomUUID(),
      secretIds: new Map(),
      policy,
      token: tokenSettings(options),
    };
    auth.roles.set(role, entry);
    const mint = (
      uses = 0,
      ttl = 0,
    ): {
      secret_id: string;
      secret_id_accessor: string;
      secret_id_ttl: number;
      secret_id_num_uses: number;
    } => {
      const secretId = randomUUID();
      entry.secretIds.set(secretId, {
        uses: uses === 0 ? Infinity : uses,
        expiresAt: ttl === 0 ? Infinity : Date.now() + ttl * 1000,
      });
      return {
        secret_id: secretId,
        secret_id_accessor: randomUUID(),
        secret_id_ttl: ttl,
        secret_id_num_uses: uses,
      };
    };
    return Promise.resolve({
      mount,
      roleId: entry.roleId,
      secretId: () => Promise.resolve(mint().secret_id),
      wrappedSecretId: (ttl = 300) =>
        Promise.resolve(
          this.wrap(ns, `auth/${mount}/role/${role}/secret-id`, envelope({ data: mint() }), ttl),
        ),
    });
  }

  close(): Promise<void> {
    return this.server.close();
  }

  // -- fake-only setup --------------------------------------------------------------------------------

  /** Response-wraps `response` as Vault does for X-Vault-Wrap-TTL; returns the wrapping token. */
  wrap(ns: VaultNamespace, creationPath: string, response: object, ttlSeconds = 300): string {
    const token = `hvs.wrap${randomBytes(12).toString("hex")}`;
    ns.wraps.set(token, { creationPath, response, expiresAt: Date.now() + ttlSeconds * 1000 });
    return token;
  }

  /** A database secrets engine at `mount` (kept if it exists); its roles map may be filled directly. */
  /**
   * A PKI engine: POST <mount>/issue/<role> {"common_name":…} issues a new certificate at every call
   * (a write, not idempotent). The returned list is every certificate issued, in order.
   */
  mountPki(mount = "pki", namespace = ""): readonly IssuedCertificate[] {
    const existing = this.ns(namespace).mounts.get(`${mount}/`);
    if (existing?.type === "pki") return existing.issued;
    const issued: IssuedCertificate[] = [];
    this.ns(namespace).mounts.set(`${mount}/`, { type: "pki", issued });
    return issued;
  }

  mountDatabase(mount = "database", namespace = ""): Map<string, () => Record<string, string>> {
    const existing = this.ns(namespace).mounts.get(`${mount}/`);
    if (existing?.type === "database") return existing.roles;
    const roles = new Map<string, () => Record<string, string>>();
    this.ns(namespace).mounts.set(`${mount}/`, { type: "database", roles, leases: new Map() });
    return roles;
  }

  /**
   * A database role whose creds (GET <mount>/creds/<role>) come with a lease of `ttl` seconds that
   * renewals extend up to `maxTtl` seconds after issue. Each read gets a new username and password
   * (from `credentials` when given); credentialValid() says whether a pair is in force now.
   */
  addDatabaseRole(
    role: string,
    options: {
      ttl: number;
      maxTtl: number;
      renewable?: boolean;
      mount?: string;
      namespace?: string;
      credentials?: () => Record<string, string>;
    },
  ): void {
    const mount = options.mount ?? "database";
    const roles = this.mountDatabase(mount, options.namespace);
    const m = this.ns(options.namespace).mounts.get(`${mount}/`) as Extract<Mount, { type: "database" }>;
    let n = 0;
    roles.set(
      role,
      options.credentials ??
        (() => ({
          username: `v-${role}-${++n}-${randomBytes(3).toString("hex")}`,
          password: randomBytes(12).toString("base64url"),
        })),
    );
    m.leases.set(role, { ttl: options.ttl, maxTtl: options.maxTtl, renewable: options.renewable ?? true });
  }

  /** A token with a TTL, max TTL and renewability of its own (createToken: ttl only, renewable, system max). */
  createTokenWith(policy: Policy, options: TokenOptions, namespace = ""): string {
    return this.#issueToken(this.ns(namespace), policy, options)["client_token"] as string;
  }

  addJwtRole(
    type: "kubernetes" | "jwt",
    role: string,
    bound: Record<string, string>,
    policy: Policy,
    options: RoleOptions = {},
  ): void {
    const auth = this.#authMount(this.ns(options.namespace), options.mount ?? type, type);
    auth.roles.set(role, { policy, bound, token: tokenSettings(options) });
  }

  // -- lifecycle observation (fake-only) ----------------------------------------------------------------

  /** When set, sys/leases/renew is refused with this status (400 "lease is not renewable", 403 denied). */
  get refuseLeaseRenewals(): 400 | 403 | undefined {
    return this.lifecycle.refuseLeaseRenewals;
  }
  set refuseLeaseRenewals(status: 400 | 403 | undefined) {
    this.lifecycle.refuseLeaseRenewals = status;
  }

  /** When set, auth/token/renew-self is refused with this status (400 "lease is not renewable", 403 denied). */
  get refuseTokenRenewals(): 400 | 403 | undefined {
    return this.lifecycle.refuseTokenRenewals;
  }
  set refuseTokenRenewals(status: 400 | 403 | undefined) {
    this.lifecycle.refuseTokenRenewals = status;
  }

  /** Every lifecycle call (logins, lease issue/renew/revoke, token renew/lookup/revoke, KV v2 writes), in order. */
  get events(): readonly LifecycleEvent[] {
    return this.lifecycle.events;
  }

  /** Whether a dynamic credential (e.g. {username, password}) is in force now: its lease unexpired, unrevoked, its token alive. */
  credentialValid(credentials: Readonly<Record<string, string>>): boolean {
    return this.lifecycle.credentialValid(credentials);
  }

  /** Every lease issued, optionally only under a path (e.g. "database/creds/app"). */
  leases(path?: string): readonly LeaseState[] {
    return this.lifecycle.leases(path);
  }

  /** Whether a token (one the tests hold) is valid now. */
  tokenValid(token: string, namespace = ""): boolean {
    const state = this.ns(namespace).tokens.get(token) ?? this.ns().tokens.get(token);
    return state !== undefined && tokenAlive(state);
  }

  /** Lifecycle events of one kind, optionally under a path (lease path, auth mount or KV path). */
  eventsOf(kind: LifecycleKind, path?: string): readonly LifecycleEvent[] {
    return this.lifecycle.eventsOf(kind, path);
  }

  /** Requests to an API path (without /v1 and query), with their arrival times. */
  calls(path: string, method?: string): readonly RecordedRequest[] {
    return this.server.requests.filter(
      (r) => apiPath(r) === path && (method === undefined || r.method === method),
    );
  }

  /** A JWT this Vault trusts (HS256 with its own key); `expiresIn` may be negative for an expired one. */
  issueJwt(claims: Record<string, string>, expiresInSeconds = 600): string {
    const now = Math.floor(Date.now() / 1000);
    const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString("base64url");
    const unsigned = `${part({ alg: "HS256", typ: "JWT" })}.${part({ ...claims, iat: now, exp: now + expiresInSeconds })}`;
    return `${unsigned}.${createHmac("sha256", this.#jwtKey).update(unsigned).digest("base64url")}`;
  }

  /** Requests to an API path (without /v1 and query), e.g. count("auth/approle/login"). */
  count(path: string, method?: string): number {
    return this.server.count((r) => apiPath(r) === path && (method === undefined || r.method === method));
  }

  // -- protocol ---------------------------------------------------------------------------------------

  handle(request: RecordedRequest): Reply {
    if (this.standbyFor !== undefined)
      return { status: 307, headers: { location: `${this.standbyFor}${request.path}` } };
    if (this.sealed) return errors(503, "Vault is sealed");
    const url = new URL(request.path, "http://vault");
    if (!url.pathname.startsWith("/v1/")) return errors(404, "no handler for route");
    const path = url.pathname.slice(4);
    const ns = this.ns(header(request, "x-vault-namespace") ?? "");
    const body = parseBody(request.body);
    const method = request.method === "PUT" ? "POST" : request.method;

    const login = /^auth\/(.+)\/login$/.exec(path);
    if (login !== null && method === "POST" && login[1] !== "token")
      return this.#login(ns, login[1] as string, body);
    if (path === "sys/wrapping/unwrap" && method === "POST") return this.#unwrap(ns, request, body, true);
    if (path === "sys/wrapping/lookup" && method === "POST") return this.#unwrap(ns, request, body, false);

    const token = header(request, "x-vault-token") ?? bearer(request);
    const info = token === undefined ? undefined : (ns.tokens.get(token) ?? this.ns().tokens.get(token));
    if (token === undefined || info === undefined || !tokenAlive(info)) return errors(403, INVALID_TOKEN);

    const forget = (): void => {
      ns.tokens.delete(token);
      this.ns().tokens.delete(token);
    };
    const lifecycle = this.lifecycle.handle({ token, info, path, method, body, forget });
    if (lifecycle !== undefined) return lifecycle;
    const mountsPrefix = "sys/internal/ui/mounts/";
    if (path.startsWith(mountsPrefix) && method === "GET")
      return this.#mountInfo(ns, info, decodeURIComponent(path.slice(mountsPrefix.length)));
    const target = decodeURIComponent(path);
    if (method === "POST" && /^[^?]+\/data\/.+/.test(target)) {
      if (!allowed(info.policy, target)) return errors(403, PERMISSION_DENIED);
      return this.#write(ns, target, body);
    }
    if (method === "POST" && findMount(ns, target)?.[1].type === "pki") {
      if (!allowed(info.policy, target)) return errors(403, PERMISSION_DENIED);
      return this.#issue(ns, target, body);
    }
    if (method !== "GET") return errors(405, "unsupported operation");
    if (!allowed(info.policy, target)) return errors(403, PERMISSION_DENIED);
    return this.#read(ns, target, url.searchParams.get("version"), info);
  }

  /** A KV v2 write (POST <mount>/data/<path> {"data":{…}}): a new version. */
  #write(ns: VaultNamespace, path: string, body: Record<string, unknown>): Reply {
    const found = findMount(ns, path);
    if (found === undefined) return errors(404, `no handler for route "${path}". route entry not found.`);
    const [mountPath, mount] = found;
    const rest = path.slice(mountPath.length);
    if (mount.type !== "kv" || mount.version !== 2 || !rest.startsWith("data/"))
      return errors(405, "unsupported operation");
    const data = body["data"];
    if (data === null || typeof data !== "object" || Array.isArray(data))
      return errors(400, "no data provided");
    const secretPath = rest.slice("data/".length);
    const version = this.#writeKv2(
      mount,
      `${mountPath}${secretPath}`,
      secretPath,
      data as Record<string, unknown>,
    );
    const entry = mount.versions.get(secretPath)?.[version - 1];
    return ok({
      data: {
        version,
        created_time: entry?.created,
        deletion_time: "",
        destroyed: false,
        custom_metadata: null,
      },
    });
  }

  /** pki/issue/:role: a new serial, certificate and key each time, as Vault's PKI engine answers. */
  #issue(ns: VaultNamespace, path: string, body: Record<string, unknown>): Reply {
    const [mountPath, mount] = findMount(ns, path) as [string, Mount];
    const role = /^issue\/([^/]+)$/.exec(path.slice(mountPath.length))?.[1];
    if (mount.type !== "pki" || role === undefined) return errors(405, "unsupported operation");
    const commonName = body["common_name"];
    if (typeof commonName !== "string" || commonName === "")
      return errors(
        400,
        'the common_name field is required, or must be provided from a CSR with "use_csr_common_name" set to true, unless "require_cn" is set to false',
      );
    const serial = (mount.issued.length + 1).toString(16).padStart(2, "0");
    const serialNumber = `7a:${serial}:${randomBytes(6).toString("hex").match(/../g)?.join(":") ?? ""}`;
    const pem = (label: string, text: string): string =>
      `-----BEGIN ${label}-----\n${Buffer.from(text).toString("base64")}\n-----END ${label}-----`;
    const certificate = pem("CERTIFICATE", `CN=${commonName} serial=${serialNumber}`);
    const privateKey = pem("RSA PRIVATE KEY", `key-of ${serialNumber} ${randomBytes(16).toString("hex")}`);
    mount.issued.push({
      serial_number: serialNumber,
      certificate,
      private_key: privateKey,
      common_name: commonName,
    });
    return ok({
      data: {
        certificate,
        issuing_ca: pem("CERTIFICATE", "fake issuing CA"),
        ca_chain: [pem("CERTIFICATE", "fake issuing CA")],
        private_key: privateKey,
        private_key_type: "rsa",
        serial_number: serialNumber,
        expiration: Math.floor(Date.now() / 1000) + 3600,
      },
    });
  }

  #read(ns: VaultNamespace, path: string, versionParam: string | null, owner: TokenState): Reply {
    const found = findMount(ns, path);
    if (found === undefined) return errors(404, `no handler for route "${path}". route entry not found.`);
    const [mountPath, mount] = found;
    const rest = path.slice(mountPath.length);
    if (mount.type === "database") {
      const role = /^creds\/(.+)$/.exec(rest)?.[1];
      const creds = role === undefined ? undefined : mount.roles.get(role);
      if (creds === undefined || role === undefined) return errors(400, `unknown role: ${role ?? rest}`);
      return this.lifecycle.issueLease(`${mountPath}creds/${role}`, mount.leases.get(role), creds(), owner);
    }
    if (mount.type === "pki") return errors(405, "unsupported operation");
    if (mount.version === 1) {
      const data = mount.data.get(rest);
      if (data === undefined) return errors(404);
      const ttl = typeof data["ttl"] === "number" ? data["ttl"] : KV1_TTL;
      return ok({ data, lease_duration: ttl, mount_type: "kv" });
    }
    if (rest.startsWith("metadata/")) return this.#metadata(mount, rest.slice("metadata/".length));
    if (!rest.startsWith("data/")) {
      return ok(
        {
          data: null,
          warnings: [
            "Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the Vault CLI, use 'vault kv get' for this operation.",
          ],
          mount_type: "kv",
        },
        404,
      );
    }
    const versions = mount.versions.get(rest.slice("data/".length));
    const wanted = versionParam === null || versionParam === "0" ? versions?.length : Number(versionParam);
    const entry = wanted === undefined ? undefined : versions?.[wanted - 1];
    if (entry === undefined || wanted === undefined) return errors(404);
    const metadata = {
      version: wanted,
      created_time: entry.created,
      deletion_time: entry.destroyed ? "" : entry.deletion,
      destroyed: entry.destroyed,
      custom_metadata: null,
    };
    if (entry.destroyed || entry.deletion !== "")
      return ok({ data: { data: null, metadata }, mount_type: "kv" }, 404);
    return ok({ data: { data: entry.data, metadata }, mount_type: "kv" });
  }

  /** GET <mount>/metadata/<path> on KV v2: the current version and every version's state, no data. */
  #metadata(mount: Extract<Mount, { type: "kv" }>, path: string): Reply {
    const versions = mount.versions.get(path);
    if (versions === undefined || versions.length === 0) return errors(404);
    const first = versions[0] as Kv2Version;
    const last = versions[versions.length - 1] as Kv2Version;
    return ok({
      data: {
        cas_required: false,
        created_time: first.created,
        current_version: versions.length,
        custom_metadata: null,
        delete_version_after: "0s",
        max_versions: 0,
        oldest_version: 0,
        updated_time: last.created,
        versions: Object.fromEntries(
          versions.map((v, i) => [
            String(i + 1),
            { created_time: v.created, deletion_time: v.destroyed ? "" : v.deletion, destroyed: v.destroyed },
          ]),
        ),
      },
      mount_type: "kv",
    });
  }

  /** As Vault: 403 unless the mount exists and the token may do something under it. */
  #mountInfo(ns: VaultNamespace, info: TokenState, path: string): Reply {
    const found = findMount(ns, path);
    const denied = errors(
      403,
      `preflight capability check returned 403, please ensure client's policies grant access to path "${path}/"`,
    );
    if (found === undefined) return denied;
    const [mountPath, mount] = found;
    if (
      !info.policy.some(
        (p) => p === "*" || p.startsWith(mountPath) || mountPath.startsWith(p.replace(/\*$/, "")),
      )
    )
      return denied;
    const options = mount.type === "kv" ? { version: String(mount.version) } : null;
    return ok({
      data: {
        path: mountPath,
        type: mount.type,
        options,
        description: "",
        accessor: `${mount.type}_${this.#counter++}`,
        local: false,
        seal_wrap: false,
        external_entropy_access: false,
        config: {},
      },
    });
  }

  #login(ns: VaultNamespace, mountPath: string, body: Record<string, unknown>): Reply {
    const auth = ns.auth.get(mountPath);
    if (auth === undefined)
      return errors(404, `no handler for route "auth/${mountPath}/login". route entry not found.`);
    if (auth.type === "approle") {
      if (typeof body["role_id"] !== "string") return errors(400, "missing role_id");
      const match = [...auth.roles.entries()].find(([, r]) => r.roleId === body["role_id"]);
      if (match === undefined) return errors(400, "invalid role or secret ID");
      const [roleName, role] = match;
      if (typeof body["secret_id"] !== "string") return errors(400, "missing secret_id");
      const secret = role.secretIds.get(body["secret_id"]);
      if (secret === undefined || secret.expiresAt <= Date.now() || secret.uses <= 0)
        return errors(400, "invalid role or secret ID");
      secret.uses -= 1;
      return ok({ auth: this.#loginToken(ns, mountPath, role.policy, role.token, { role_name: roleName }) });
    }
    const roleName = body["role"];
    const jwt = body["jwt"];
    const role = typeof roleName === "string" ? auth.roles.get(roleName) : undefined;
    if (role === undefined)
      return errors(
        400,
        auth.type === "kubernetes"
          ? `invalid role name "${String(roleName)}"`
          : `role "${String(roleName)}" could not be found`,
      );
    const claims = typeof jwt === "string" ? this.#verifyJwt(jwt) : "malformed";
    if (auth.type === "kubernetes") {
      // The real plugin asks the cluster (TokenReview); a bad or expired token is a bare 403.
      if (typeof claims === "string") return errors(403, PERMISSION_DENIED);
      for (const [claim, value] of Object.entries(role.bound)) {
        if (claims[claim] !== value)
          return errors(
            403,
            claim.includes("namespace") ? "namespace not authorized" : "service account name not authorized",
          );
      }
    } else {
      if (claims === "expired")
        return errors(400, "error validating claims: validation failed, token is expired (exp)");
      if (typeof claims === "string")
        return errors(400, "error validating token: failed to verify id token signature");
      for (const [claim, value] of Object.entries(role.bound)) {
        if (claims[claim] !== value)
          return errors(
            400,
            `error validating claims: claim "${claim}" does not match any associated bound claim values`,
          );
      }
    }
    return ok({
      auth: this.#loginToken(ns, mountPath, role.policy, role.token, { role: roleName as string }, claims),
    });
  }

  #loginToken(
    ns: VaultNamespace,
    mount: string,
    policy: Policy,
    settings: TokenSettings,
    metadata: Record<string, string>,
    claims?: Record<string, unknown>,
  ): Record<string, unknown> {
    const auth = this.#issueToken(ns, policy, {
      ttl: settings.ttl,
      ...(settings.maxTtl === 0 ? {} : { maxTtl: settings.maxTtl }),
      renewable: settings.renewable,
      metadata,
    });
    this.lifecycle.event("login", {
      path: `auth/${mount}`,
      accessor: auth["accessor"] as string,
      durationSec: settings.ttl,
      ...(claims === undefined ? {} : { claims }),
    });
    return auth;
  }

  #verifyJwt(jwt: string): Record<string, unknown> | "malformed" | "expired" {
    const [head, payload, signature] = jwt.split(".");
    if (head === undefined || payload === undefined || signature === undefined) return "malformed";
    const expected = createHmac("sha256", this.#jwtKey).update(`${head}.${payload}`).digest("base64url");
    if (expected !== signature) return "malformed";
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
    if (typeof claims["exp"] !== "number" || claims["exp"] * 1000 <= Date.now()) return "expired";
    return claims;
  }

  #unwrap(
    ns: VaultNamespace,
    request: RecordedRequest,
    body: Record<string, unknown>,
    consume: boolean,
  ): Reply {
    const token = typeof body["token"] === "string" ? body["token"] : header(request, "x-vault-token");
    const wrap = token === undefined ? undefined : ns.wraps.get(token);
    if (token === undefined || wrap === undefined || wrap.expiresAt <= Date.now())
      return errors(400, "wrapping token is not valid or does not exist");
    if (!consume) {
      return ok({
        data: {
          creation_path: wrap.creationPath,
          creation_time: new Date().toISOString(),
          creation_ttl: Math.round((wrap.expiresAt - Date.now()) / 1000),
        },
      });
    }
    ns.wraps.delete(token);
    return { status: 200, body: wrap.response };
  }

  #issueToken(ns: VaultNamespace, policy: Policy, options: TokenOptions): Record<string, unknown> {
    const token = `hvs.${randomBytes(18).toString("base64url")}`;
    const info = newToken(policy, randomBytes(12).toString("base64url"), options);
    ns.tokens.set(token, info);
    return { ...authBody(token, info), lease_duration: options.ttl };
  }

  #kv(mount: string, namespace: string): Extract<Mount, { type: "kv" }> {
    const m = this.ns(namespace).mounts.get(`${mount}/`);
    if (m?.type !== "kv") throw new Error(`no KV mount ${mount}`);
    return m;
  }

  #authMount<T extends AuthMount["type"]>(
    ns: VaultNamespace,
    mount: string,
    type: T,
  ): Extract<AuthMount, { type: T }> {
    let auth = ns.auth.get(mount);
    if (auth === undefined) {
      auth =
        type === "approle"
          ? { type: "approle", roles: new Map() }
          : { type: type as "jwt", roles: new Map() };
      ns.auth.set(mount, auth);
    }
    if (auth.type !== type) throw new Error(`auth/${mount} is ${auth.type}, not ${type}`);
    return auth as Extract<AuthMount, { type: T }>;
  }
}

function findMount(ns: VaultNamespace, path: string): [string, Mount] | undefined {
  const candidates = [...ns.mounts.entries()].filter(([m]) => `${path}/`.startsWith(m));
  return candidates.sort(([a], [b]) => b.length - a.length)[0];
}

export function apiPath(request: RecordedRequest): string {
  return new URL(request.path, "http://vault").pathname.replace(/^\/v1\//, "");
}

function header(request: RecordedRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

function bearer(request: RecordedRequest): string | undefined {
  return /^Bearer (.+)$/.exec(header(request, "authorization") ?? "")?.[1];
}

/** JSON, or an empty/form body (node-vault's bare unwrap()), which Vault reads as no fields. */
function parseBody(body: string): Record<string, unknown> {
  if (body.trim() === "") return {};
  try {
    const parsed = JSON.parse(body) as unknown;
    return parsed !== null && typeof parsed === "object" ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Vault's error bodies, for scripting faults: `vaultError(503, "Vault is sealed")`. */
export const vaultError = (status: number, ...messages: string[]): ReturnType<typeof reply> =>
  reply(status, { errors: messages });

// -------------------------------------------------------------------------------------------------------
// A real Vault dev server, driven through its HTTP API with the root token. Everything is created
// under fresh names and removed again in close().

export class RealVault implements VaultBackend {
  readonly real = true;
  readonly url: string;
  readonly rootToken: string;
  readonly #created: string[] = [];
  readonly #suffix = randomBytes(4).toString("hex");

  constructor(url: string, rootToken: string) {
    this.url = url.replace(/\/+$/, "");
    this.rootToken = rootToken;
  }

  static fromEnv(): RealVault | undefined {
    const addr = process.env["SECRETWRAP_TEST_VAULT_ADDR"];
    const token = process.env["SECRETWRAP_TEST_VAULT_TOKEN"];
    return addr === undefined || token === undefined ? undefined : new RealVault(addr, token);
  }

  async api(
    method: string,
    path: string,
    body?: object,
    headers: Record<string, string> = {},
  ): Promise<Record<string, unknown>> {
    const response = await fetch(`${this.url}/v1/${path}`, {
      method,
      headers: { "X-Vault-Token": this.rootToken, "Content-Type": "application/json", ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`real Vault: ${method} ${path} → ${response.status}`);
    return response.status === 204 ? {} : ((await response.json()) as Record<string, unknown>);
  }

  async mountKv(hint: string, version: 1 | 2): Promise<string> {
    const mount = `${hint}-${this.#suffix}`;
    await this.api("POST", `sys/mounts/${mount}`, { type: "kv", options: { version: String(version) } });
    this.#created.push(`sys/mounts/${mount}`);
    return mount;
  }

  async putKv(mount: string, path: string, data: Record<string, unknown>): Promise<number | undefined> {
    const info = await this.api("GET", `sys/internal/ui/mounts/${mount}`);
    const v2 = (info["data"] as { options?: { version?: string } | null }).options?.version === "2";
    if (!v2) {
      await this.api("POST", `${mount}/${path}`, data);
      return undefined;
    }
    const written = await this.api("POST", `${mount}/data/${path}`, { data });
    return (written["data"] as { version: number }).version;
  }

  async deleteVersion(mount: string, path: string, version: number): Promise<void> {
    await this.api("POST", `${mount}/delete/${path}`, { versions: [version] });
  }

  async destroyVersion(mount: string, path: string, version: number): Promise<void> {
    await this.api("POST", `${mount}/destroy/${path}`, { versions: [version] });
  }

  async #policy(policy: Policy): Promise<string> {
    const name = `secretwrap-test-${this.#suffix}-${randomBytes(3).toString("hex")}`;
    const hcl = policy.map((p) => `path "${p}" { capabilities = ["read"] }`).join("\n");
    await this.api("PUT", `sys/policies/acl/${name}`, { policy: hcl });
    this.#created.push(`sys/policies/acl/${name}`);
    return name;
  }

  async createToken(policy: Policy, ttlSeconds = 3600): Promise<string> {
    const name = await this.#policy(policy);
    const created = await this.api("POST", "auth/token/create", {
      policies: [name],
      ttl: `${ttlSeconds}s`,
      no_default_policy: true,
    });
    return (created["auth"] as { client_token: string }).client_token;
  }

  async addAppRole(role: string, policy: Policy): Promise<AppRoleHandle> {
    const mount = `approle-${this.#suffix}`;
    if (!this.#created.includes(`sys/auth/${mount}`)) {
      await this.api("POST", `sys/auth/${mount}`, { type: "approle" });
      this.#created.push(`sys/auth/${mount}`);
    }
    const name = await this.#policy(policy);
    await this.api("POST", `auth/${mount}/role/${role}`, { token_policies: [name], token_ttl: "10m" });
    const roleId = (
      (await this.api("GET", `auth/${mount}/role/${role}/role-id`))["data"] as { role_id: string }
    ).role_id;
    return {
      mount,
      roleId,
      secretId: async () =>
        (
          (await this.api("POST", `auth/${mount}/role/${role}/secret-id`, {}))["data"] as {
            secret_id: string;
          }
        ).secret_id,
      wrappedSecretId: async (ttl = 300) =>
        (
          (
            await this.api(
              "POST",
              `auth/${mount}/role/${role}/secret-id`,
              {},
              { "X-Vault-Wrap-TTL": `${ttl}s` },
            )
          )["wrap_info"] as { token: string }
        ).token,
    };
  }

  async close(): Promise<void> {
    for (const path of this.#created.reverse()) await this.api("DELETE", path).catch(() => undefined);
  }
}
