// Reading one secret: the API path for its mount kind (KV v2 data/ and ?version), the read itself,
// and the answer turned into bytes (deleted and destroyed KV v2 versions, dynamic-secret leases).
import {
  type Fetched,
  type Lease,
  type ProviderContext,
  type Ref,
  SecretwrapError,
} from "../../src/provider-api.ts";
import { describeFailure, mapError } from "./errors.ts";
import type { Client } from "./login.ts";
import { encodePath, type MountInfo, type Mounts, secretPathInMount } from "./mounts.ts";
import { leaseLabel } from "./lease.ts";
import { PROVIDER } from "./options.ts";
import type { CallInfo } from "./transport.ts";

interface ReadPlan {
  readonly apiPath: string;
  readonly kind: MountInfo["kind"];
  readonly version?: string;
}

function planRead(ref: Ref, mount: MountInfo): ReadPlan {
  const rest = secretPathInMount(ref, mount);
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

export interface ReadBody {
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

export function asMap(value: unknown): Record<string, unknown> | undefined {
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
  return fetchedFrom(map, body, ctx, version);
}

/** A map of values Vault answered (a read's or a write's data) as the core's Fetched, masked. */
export function fetchedFrom(
  map: Record<string, unknown>,
  body: ReadBody,
  ctx: ProviderContext,
  version?: string,
): Fetched {
  maskLeaves(map, ctx);
  const bytes = Buffer.from(JSON.stringify(map), "utf8");
  const audit: Record<string, string> = {};
  // Dynamic secrets: the lease's path tells an operator where these credentials come from. The id itself
  // is a handle on them (sys/leases/revoke), so it is masked and only its path is written.
  if (typeof body.lease_id === "string" && body.lease_id !== "") {
    ctx.addSecret(body.lease_id);
    audit["lease_id"] = leaseLabel(body.lease_id);
    if (typeof body.lease_duration === "number") audit["lease_duration"] = `${body.lease_duration}s`;
    if (typeof body.renewable === "boolean") audit["renewable"] = String(body.renewable);
  }
  const lease = leaseOf(body);
  return {
    bytes,
    keyValueMap: true,
    ...(version === undefined ? {} : { version }),
    ...(lease === undefined ? {} : { lease }),
    ...(Object.keys(audit).length === 0 ? {} : { audit }),
  };
}

/** A dynamic secret's lease, for the lifecycle work (Fetched.lease); a KV read has none. */
function leaseOf(body: ReadBody): Lease | undefined {
  if (typeof body.lease_id !== "string" || body.lease_id === "") return undefined;
  if (typeof body.lease_duration !== "number") return undefined;
  return { id: body.lease_id, durationSec: body.lease_duration, renewable: body.renewable === true };
}

export async function readSecret(
  client: Client,
  mounts: Mounts,
  origin: string,
  ref: Ref,
  signal: AbortSignal,
  ctx: ProviderContext,
): Promise<Fetched> {
  const mount = await mounts.lookup(ref.locator, signal);
  const plan = planRead(ref, mount);
  const call: CallInfo = {};
  const query = plan.version === undefined ? "" : `?version=${plan.version}`;
  let body: ReadBody;
  try {
    body = (await client.read(`${encodePath(plan.apiPath)}${query}`, { signal, call })) as ReadBody;
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
    throw mapError(error, { stage: "read", path: plan.apiPath, origin, call });
  }
  return toFetched(ref, plan, body, ctx);
}
