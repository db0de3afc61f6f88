// A wire-level Azure Key Vault and its token services for @azure/keyvault-secrets 4.11 and
// @azure/identity 4.13 (reference/protocols.md §4): `GET /secrets/{name}/{version}` and Set Secret
// (`PUT /secrets/{name}`: a new current version, as a rotation writes it) over HTTPS with the 401
// challenge, real error bodies and per-token authorisation; Entra ID over HTTPS for workload identity
// and client secrets; App Service and IMDS managed identity over plain HTTP (as in Azure). Faults,
// latency and the request log come from the shared harness: `fake.vault.script(...)`, `fake.login`,
// `fake.msi`.
import { randomBytes } from "node:crypto";
import { TestServer, type RecordedRequest, type Reply } from "./harness.ts";
import {
  entraHandler,
  issue,
  managedIdentityHandler,
  newIdentityState,
  VAULT_RESOURCE,
  type IdentityState,
} from "./azure-identity.ts";
import type { TestPki } from "./tls.ts";

export { jwtShaped, randomGuid, type IdentityState } from "./azure-identity.ts";

interface StoredVersion {
  readonly version: string;
  readonly value: string;
  readonly contentType?: string;
  enabled: boolean;
  readonly created: number;
}

export interface AzureFakeOptions {
  readonly pki: TestPki;
  /** Added to every answer of every server (benchmarks). */
  readonly latencyMs?: number;
}

export class AzureFake {
  readonly identity: IdentityState;
  /** Key Vault (HTTPS). */
  readonly vault: TestServer;
  /** Entra ID authority host (HTTPS): AZURE_AUTHORITY_HOST. */
  readonly login: TestServer;
  /** Managed identity (HTTP): IDENTITY_ENDPOINT = `${msi.url}/msi/token`, IMDS host = msi.url. */
  readonly msi: TestServer;
  /** The tenant the vault's 401 challenge names and whose tokens it accepts. */
  vaultTenant: string;
  /** Secret names every caller is denied (RBAC). */
  readonly denied = new Set<string>();
  readonly #secrets = new Map<string, StoredVersion[]>();

  private constructor(identity: IdentityState, vault: TestServer, login: TestServer, msi: TestServer) {
    this.identity = identity;
    this.vault = vault;
    this.login = login;
    this.msi = msi;
    this.vaultTenant = identity.tenantId;
  }

  static async start(options: AzureFakeOptions): Promise<AzureFake> {
    const identity = newIdentityState();
    const latency = options.latencyMs === undefined ? {} : { latencyMs: options.latencyMs };
    const tls = { key: options.pki.valid.key, cert: options.pki.valid.cert };
    // The vault handler needs the instance, which needs the servers: a late-bound reference.
    const self: { fake?: AzureFake } = {};
    const vault = await TestServer.start({
      handler: (r) => (self.fake as AzureFake).#serveVault(r),
      tls,
      ...latency,
    });
    const login: TestServer = await TestServer.start({
      handler: entraHandler(identity, () => login.url),
      tls,
      ...latency,
    });
    const msi = await TestServer.start({ handler: managedIdentityHandler(identity), ...latency });
    self.fake = new AzureFake(identity, vault, login, msi);
    return self.fake;
  }

  /** Stores a new version (it becomes the latest) and returns its 32-hex version id. */
  putSecret(name: string, value: string, options: { contentType?: string } = {}): string {
    const version = randomBytes(16).toString("hex");
    const versions = this.#secrets.get(name.toLowerCase()) ?? [];
    versions.push({ version, value, enabled: true, created: Math.floor(Date.now() / 1000), ...options });
    this.#secrets.set(name.toLowerCase(), versions);
    return version;
  }

  /** A token for a developer signed in with `az login` (what `az account get-access-token` prints). */
  developerToken(): string {
    return issue(this.identity, { principal: "developer@example.invalid", via: "azureCli" });
  }

  disable(name: string, version: string): void {
    const found = this.#secrets.get(name.toLowerCase())?.find((v) => v.version === version);
    if (found === undefined) throw new Error(`no version ${version} of ${name}`);
    found.enabled = false;
  }

  /** Token requests seen by Entra ID and the managed identity endpoints. */
  tokenRequests(): number {
    return this.login.count(isTokenRequest) + this.msi.count(() => true);
  }

  secretGets(): number {
    return this.vault.count(isSecretGet);
  }

  async close(): Promise<void> {
    await Promise.all([this.vault.close(), this.login.close(), this.msi.close()]);
  }

  /** setSecret requests (`PUT /secrets/{name}`) that carried a token. */
  secretSets(): number {
    return this.vault.count((r) => isSecretSet(r) && typeof r.headers["authorization"] === "string");
  }

  #serveVault(request: RecordedRequest): Reply {
    const url = new URL(request.path, this.vault.url);
    const get = request.method === "GET" ? /^\/secrets\/([^/]+)\/([^/]*)$/.exec(url.pathname) : null;
    const set = request.method === "PUT" ? /^\/secrets\/([^/]+)$/.exec(url.pathname) : null;
    const match = get ?? set;
    // The SDK percent-encodes the query key (api%2Dversion); URLSearchParams decodes it.
    if (match === null) return kvError(400, "BadParameter", "The request URI is not valid.");
    if (url.searchParams.get("api-version") === null) {
      return kvError(
        400,
        "MissingApiVersionParameter",
        "The api-version query parameter (?api-version=) is required for all requests.",
      );
    }
    const challenge = {
      "www-authenticate": `Bearer authorization="https://login.microsoftonline.com/${this.vaultTenant}", resource="${VAULT_RESOURCE}"`,
    };
    const auth = request.headers["authorization"];
    if (typeof auth !== "string" || !auth.startsWith("Bearer ")) {
      return {
        ...kvError(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token."),
        headers: challenge,
      };
    }
    const token = this.identity.tokens.get(auth.slice("Bearer ".length));
    if (token === undefined) {
      return { ...kvError(401, "Unauthorized", "AKV10022: Invalid audience."), headers: challenge };
    }
    if (token.tenantId !== this.vaultTenant) {
      return {
        ...kvError(
          401,
          "Unauthorized",
          `AKV10032: Invalid issuer. Expected one of https://sts.windows.net/${this.vaultTenant}/, found https://sts.windows.net/${token.tenantId}/.`,
        ),
        headers: challenge,
      };
    }
    const name = decodeURIComponent(match[1] ?? "");
    const wanted = match[2] ?? "";
    const vaultUrl = `https://${String(request.headers["host"])}`;
    if (set !== null) return this.#setSecret(name, request.body, vaultUrl);
    if (this.denied.has(name)) {
      return kvError(
        403,
        "Forbidden",
        `Caller is not authorized to perform action on resource. Caller: appid=${token.principal}; Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'; Assignment: (not found)`,
        "ForbiddenByRbac",
      );
    }
    const versions = this.#secrets.get(name.toLowerCase()) ?? [];
    const found = wanted === "" ? versions.at(-1) : versions.find((v) => v.version === wanted.toLowerCase());
    if (found === undefined) {
      const which = wanted === "" ? name : `${name}/${wanted}`;
      return kvError(
        404,
        "SecretNotFound",
        `A secret with (name/id) ${which} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
      );
    }
    if (!found.enabled)
      return kvError(
        403,
        "Forbidden",
        "Operation get is not allowed on a disabled secret.",
        "SecretDisabled",
      );
    return { status: 200, body: secretBundle(vaultUrl, name, found) };
  }

  /**
   * Set Secret (`PUT /secrets/{name}`, permission secrets/set): a new version with a new id, which
   * becomes the current one; the answer is the new version's bundle, value included, as Key Vault's.
   */
  #setSecret(name: string, body: string, vaultUrl: string): Reply {
    if (!/^[0-9a-zA-Z-]{1,127}$/.test(name))
      return kvError(400, "BadParameter", "The request URI contains an invalid name: " + name);
    let parsed: { value?: unknown; contentType?: unknown };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      return kvError(400, "BadParameter", "The request body is not valid JSON.");
    }
    if (typeof parsed.value !== "string") return kvError(400, "BadParameter", "Property value is required.");
    const contentType = typeof parsed.contentType === "string" ? { contentType: parsed.contentType } : {};
    const version = this.putSecret(name, parsed.value, contentType);
    const stored = this.#secrets.get(name.toLowerCase())?.find((v) => v.version === version) as StoredVersion;
    return { status: 200, body: secretBundle(vaultUrl, name, stored) };
  }
}

/** A SecretBundle as Key Vault answers get and set with it. */
function secretBundle(vaultUrl: string, name: string, found: StoredVersion): object {
  return {
    value: found.value,
    ...(found.contentType === undefined ? {} : { contentType: found.contentType }),
    id: `${vaultUrl}/secrets/${name}/${found.version}`,
    attributes: {
      enabled: found.enabled,
      created: found.created,
      updated: found.created,
      recoveryLevel: "Recoverable+Purgeable",
      recoverableDays: 90,
    },
    tags: {},
  };
}

function kvError(status: number, code: string, message: string, inner?: string): Reply {
  return {
    status,
    body: { error: { code, message, ...(inner === undefined ? {} : { innererror: { code: inner } }) } },
  };
}

export const isSecretSet = (r: RecordedRequest): boolean =>
  r.method === "PUT" && r.path.startsWith("/secrets/");
export const isSecretGet = (r: RecordedRequest): boolean =>
  r.method === "GET" && r.path.startsWith("/secrets/");
export const isAuthorizedSecretGet = (r: RecordedRequest): boolean =>
  isSecretGet(r) && typeof r.headers["authorization"] === "string";
export const isTokenRequest = (r: RecordedRequest): boolean =>
  r.method === "POST" && r.path.includes("/oauth2/v2.0/token");
