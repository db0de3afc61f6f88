// Secret Manager's REST surface as @google-cloud/secret-manager's REST fallback speaks it
// (reference/protocols.md §3): AccessSecretVersion (`GET /v1/{name}:access`), GetSecretVersion
// (`GET /v1/{name}`: the version resource's metadata, never the payload) and AddSecretVersion
// (`POST /v1/{parent}:addVersion`, the write API that rotates a secret). `latest` is the newest version
// created, whatever its state, as Google resolves it. Permissions are per secret and per method, so a
// caller holding only roles/secretmanager.secretAccessor (versions.access, not versions.get) can be
// played. The bearer check is the caller's (test/servers/gcp.ts).
import { crc32c } from "../../providers/gcpsecrets/crc32c.ts";
import type { RecordedRequest, Reply } from "./harness.ts";

export type VersionState = "ENABLED" | "DISABLED" | "DESTROYED";

/** The IAM permissions the three methods require (Google's REST reference for each). */
export type Permission =
  "secretmanager.versions.access" | "secretmanager.versions.get" | "secretmanager.versions.add";

interface Version {
  readonly data: Buffer;
  readonly createTime: string;
  /** Whether the writer sent dataCrc32c (the resource reports it). */
  readonly checksummed: boolean;
  state: VersionState;
}

/** google.cloud.secretmanager.v1.SecretVersion.State, for `$alt=json;enum-encoding=int`. */
const STATE_NUMBERS: Record<VersionState, number> = { ENABLED: 1, DISABLED: 2, DESTROYED: 3 };

const NAME = "projects/([^/]+)/(?:locations/([^/]+)/)?secrets/([^/:]+)";
export const ACCESS = new RegExp(`^/v1/(${NAME}/versions/([^/:?]+)):access(?:\\?.*)?$`);
export const GET_VERSION = new RegExp(`^/v1/(${NAME}/versions/([^/:?]+))(?:\\?.*)?$`);
export const ADD_VERSION = new RegExp(`^/v1/(${NAME}):addVersion(?:\\?.*)?$`);

/** Google's JSON error body (google.rpc.Status in REST form), for tests to script as faults. */
export function googleError(
  http: number,
  status: string,
  message: string,
  headers?: Record<string, string>,
): Reply {
  return {
    status: http,
    body: { error: { code: http, message, status } },
    headers: { "content-type": "application/json; charset=UTF-8", ...headers },
  };
}

/** The project number the real service reports in names, derived from the project id. */
export function projectNumber(project: string): string {
  if (/^[0-9]+$/.test(project)) return project;
  let n = 7;
  for (const ch of project) n = (n * 31 + ch.charCodeAt(0)) % 900_000_000_000;
  return String(100_000_000_000 + n);
}

export function secretName(project: string, secret: string, location?: string): string {
  return location === undefined
    ? `projects/${project}/secrets/${secret}`
    : `projects/${project}/locations/${location}/secrets/${secret}`;
}

/** The parts of a matched path: the name as requested, and the secret it belongs to. */
interface Addressed {
  readonly requested: string;
  readonly project: string;
  readonly location: string | undefined;
  readonly secret: string;
  /** The secret's name as the service writes it back (project number). */
  readonly reported: string;
  readonly key: string;
}

function addressed(match: RegExpExecArray): Addressed {
  const [, requested = "", project = "", location, secret = ""] = match;
  return {
    requested,
    project,
    location,
    secret,
    reported: secretName(projectNumber(project), secret, location),
    key: secretName(project, secret, location),
  };
}

const JSON_HEADERS = { "content-type": "application/json; charset=UTF-8" };

export class SecretManagerApi {
  readonly #secrets = new Map<string, Version[]>();
  readonly #withheld = new Map<string, Set<Permission>>();
  readonly #extra: string;

  /** `extra` is appended to every error message (a test proves the client never echoes one). */
  constructor(extra: string) {
    this.#extra = extra;
  }

  /** Adds versions to a secret (creating it; with none: a secret without versions); its name. */
  add(
    project: string,
    secret: string,
    versions: readonly (string | Uint8Array)[],
    location?: string,
  ): string {
    const name = secretName(project, secret, location);
    const list = this.#secrets.get(name) ?? [];
    for (const v of versions) list.push(newVersion(Buffer.from(v), false));
    this.#secrets.set(name, list);
    return name;
  }

  setState(project: string, secret: string, version: number, state: VersionState, location?: string): void {
    const v = this.#secrets.get(secretName(project, secret, location))?.[version - 1];
    if (v === undefined) throw new Error(`no version ${version} of ${project}/${secret}`);
    v.state = state;
  }

  /** Every caller is refused these permissions on the secret (IAM is granted per secret or above). */
  withhold(project: string, secret: string, permissions: readonly Permission[], location?: string): void {
    const key = secretName(project, secret, location);
    const set = this.#withheld.get(key) ?? new Set();
    for (const p of permissions) set.add(p);
    this.#withheld.set(key, set);
  }

  /** Answers a request whose bearer was accepted; undefined when the path is none of the three. */
  serve(request: RecordedRequest): Reply | undefined {
    const intEnums = /enum-encoding(=|%3D)int/i.test(request.path);
    const access = request.method === "GET" ? ACCESS.exec(request.path) : null;
    if (access !== null) return this.#access(addressed(access), access[5] ?? "");
    const get = request.method === "GET" ? GET_VERSION.exec(request.path) : null;
    if (get !== null) return this.#getVersion(addressed(get), get[5] ?? "", intEnums);
    const add = request.method === "POST" ? ADD_VERSION.exec(request.path) : null;
    if (add !== null) return this.#addVersion(addressed(add), request.body, intEnums);
    return undefined;
  }

  error(http: number, status: string, message: string, headers?: Record<string, string>): Reply {
    return googleError(http, status, message + this.#extra, headers);
  }

  #refused(at: Addressed, permission: Permission): Reply | undefined {
    if (!this.#withheld.get(at.key)?.has(permission)) return undefined;
    return this.error(
      403,
      "PERMISSION_DENIED",
      `Permission '${permission}' denied for resource '${at.requested}' (or it may not exist).`,
    );
  }

  /** The version a name picks (`latest`: the newest created, enabled or not), or the error reply. */
  #pick(at: Addressed, version: string): { found: Version; name: string } | Reply {
    const versions = this.#secrets.get(at.key);
    if (versions === undefined || versions.length === 0) {
      return this.error(404, "NOT_FOUND", `Secret [${at.reported}] not found or has no versions.`);
    }
    const number =
      version === "latest" ? versions.length : /^[1-9][0-9]*$/.test(version) ? Number(version) : 0;
    if (number === 0)
      return this.error(400, "INVALID_ARGUMENT", `Invalid resource field value in the request.`);
    const name = `${at.reported}/versions/${number}`;
    const found = versions[number - 1];
    if (found === undefined) return this.error(404, "NOT_FOUND", `Secret Version [${name}] not found.`);
    return { found, name };
  }

  #access(at: Addressed, version: string): Reply {
    const refused = this.#refused(at, "secretmanager.versions.access");
    if (refused !== undefined) return refused;
    const picked = this.#pick(at, version);
    if ("status" in picked) return picked;
    const { found, name } = picked;
    if (found.state !== "ENABLED") {
      return this.error(400, "FAILED_PRECONDITION", `Secret Version [${name}] is in ${found.state} state.`);
    }
    return {
      status: 200,
      headers: JSON_HEADERS,
      body: {
        name,
        payload: { data: found.data.toString("base64"), dataCrc32c: String(crc32c(found.data)) },
      },
    };
  }

  #getVersion(at: Addressed, version: string, intEnums: boolean): Reply {
    const refused = this.#refused(at, "secretmanager.versions.get");
    if (refused !== undefined) return refused;
    const picked = this.#pick(at, version);
    if ("status" in picked) return picked;
    return { status: 200, headers: JSON_HEADERS, body: resource(picked.name, picked.found, intEnums) };
  }

  #addVersion(at: Addressed, body: string, intEnums: boolean): Reply {
    const refused = this.#refused(at, "secretmanager.versions.add");
    if (refused !== undefined) return refused;
    const versions = this.#secrets.get(at.key);
    if (versions === undefined) return this.error(404, "NOT_FOUND", `Secret [${at.reported}] not found.`);
    let payload: { data?: unknown; dataCrc32c?: unknown } | undefined;
    try {
      payload = (JSON.parse(body) as { payload?: typeof payload }).payload;
    } catch {
      return this.error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
    }
    if (payload === undefined || (payload.data !== undefined && typeof payload.data !== "string")) {
      return this.error(400, "INVALID_ARGUMENT", "Secret Payload is required.");
    }
    // proto3 JSON: bytes are base64 (an empty value drops the field), int64 a decimal string.
    const data = Buffer.from(payload.data ?? "", "base64");
    // int64 in proto3 JSON: a decimal string (a number is accepted too).
    const sent = payload.dataCrc32c;
    const given = typeof sent === "string" || typeof sent === "number" ? String(sent) : sent;
    if (given !== undefined && given !== String(crc32c(data))) {
      return this.error(400, "INVALID_ARGUMENT", "Checksum mismatch: data_crc32c does not match the data.");
    }
    const version = newVersion(data, given !== undefined);
    versions.push(version);
    return {
      status: 200,
      headers: JSON_HEADERS,
      body: resource(`${at.reported}/versions/${versions.length}`, version, intEnums),
    };
  }
}

function newVersion(data: Buffer, checksummed: boolean): Version {
  return { data, checksummed, state: "ENABLED", createTime: new Date().toISOString() };
}

/** A SecretVersion resource in REST JSON: metadata only, never the payload. */
function resource(name: string, v: Version, intEnums: boolean): object {
  return {
    name,
    createTime: v.createTime,
    ...(v.state === "DESTROYED" ? { destroyTime: v.createTime } : {}),
    state: intEnums ? STATE_NUMBERS[v.state] : v.state,
    replicationStatus: { automatic: {} },
    // Changes with the resource's state, as Google's does.
    etag: `"${crc32c(Buffer.from(`${name} ${v.state}`)).toString(16)}"`,
    clientSpecifiedPayloadChecksum: v.checksummed,
  };
}
