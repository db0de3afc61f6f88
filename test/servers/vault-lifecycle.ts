// The time-bound half of the fake Vault (test/servers/vault.ts): leases of dynamic secrets and tokens
// with a TTL, a max TTL and renewal, as Vault's expiration manager keeps them. Everything is judged
// against Date.now() when asked, so a lease really is dead once its time has passed: a credential is
// valid only while its lease is unexpired, unrevoked, and its token (the lease's parent) is alive.
// Each lifecycle call is kept as an event with its time and outcome, for tests that check renewals
// came before expiry and that revocations happened.
import { randomBytes, randomUUID } from "node:crypto";
import type { Reply } from "./harness.ts";
import { allowed, errors, ok, PERMISSION_DENIED } from "./vault-wire.ts";

/** Vault's system max TTL (32 days): what caps a token or lease with no max of its own. */
export const SYSTEM_MAX_TTL = 2_764_800;

export type LifecycleKind =
  | "login"
  | "lease-issue"
  | "lease-renew"
  | "lease-revoke"
  | "token-renew"
  | "token-lookup"
  | "token-revoke"
  | "kv-write";

export interface LifecycleEvent {
  readonly time: number;
  readonly kind: LifecycleKind;
  /** A lease's path without its suffix (database/creds/app), an auth mount, or a KV path. */
  readonly path?: string;
  readonly leaseId?: string;
  /** The token's accessor (never the token). */
  readonly accessor?: string;
  /** The duration granted (seconds): at issue, login or renewal. */
  readonly durationSec?: number;
  /** A renewal cut short by the max TTL. */
  readonly capped?: boolean;
  /** The status a refused call was answered with. */
  readonly refused?: number;
  /** A lease revoked because its token was revoked. */
  readonly withToken?: boolean;
  /** A JWT or Kubernetes login: the claims of the JWT it was given (tests tell re-read files apart). */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** A KV v2 write: the version it created. */
  readonly version?: number;
}

export interface TokenState {
  readonly policy: readonly string[];
  readonly accessor: string;
  readonly issuedAt: number;
  /** The TTL it was created with, in seconds (0: it never expires). */
  readonly creationTtl: number;
  /** Infinity when it never expires. */
  expiresAt: number;
  /** When no renewal can take it past (Infinity: never). */
  readonly maxExpiresAt: number;
  readonly renewable: boolean;
  readonly metadata: Readonly<Record<string, string>>;
  /** Set by revoke-self (or a revocation of its parent); a revoked token is gone for good. */
  revokedAt: number | undefined;
}

export interface TokenOptions {
  readonly ttl: number;
  /** Seconds from issue; default the system max. */
  readonly maxTtl?: number;
  readonly renewable?: boolean;
  readonly metadata?: Readonly<Record<string, string>>;
}

export function newToken(policy: readonly string[], accessor: string, options: TokenOptions): TokenState {
  const now = Date.now();
  const never = options.ttl === 0;
  return {
    policy,
    accessor,
    issuedAt: now,
    creationTtl: options.ttl,
    expiresAt: never ? Infinity : now + options.ttl * 1000,
    maxExpiresAt: never ? Infinity : now + (options.maxTtl ?? SYSTEM_MAX_TTL) * 1000,
    renewable: !never && (options.renewable ?? true),
    metadata: options.metadata ?? {},
    revokedAt: undefined,
  };
}

export function tokenAlive(token: TokenState, now = Date.now()): boolean {
  return token.revokedAt === undefined && token.expiresAt > now;
}

/** Seconds left, as Vault reports a TTL (whole seconds, rounded down); 0 for a token that never expires. */
export function ttlLeft(expiresAt: number, now = Date.now()): number {
  return expiresAt === Infinity ? 0 : Math.max(0, Math.floor((expiresAt - now) / 1000));
}

/** A renewal as Vault computes it: now + increment, never past the max. */
export function renewal(
  maxExpiresAt: number,
  incrementSec: number,
  now = Date.now(),
): { expiresAt: number; capped: boolean } {
  const wanted = now + incrementSec * 1000;
  return wanted > maxExpiresAt
    ? { expiresAt: maxExpiresAt, capped: true }
    : { expiresAt: wanted, capped: false };
}

/** Vault's duration strings: 30, "30", "30s", "5m", "1h". NaN when it is none of them. */
export function durationSeconds(value: unknown): number {
  if (typeof value === "number") return value;
  if (typeof value !== "string") return NaN;
  const match = /^(\d+)([smh]?)$/.exec(value.trim());
  if (match === null) return NaN;
  const scale = { "": 1, s: 1, m: 60, h: 3600 }[match[2] as "" | "s" | "m" | "h"];
  return Number(match[1]) * scale;
}

export interface DatabaseRole {
  /** The lease's TTL in seconds. */
  readonly ttl: number;
  readonly maxTtl: number;
  readonly renewable: boolean;
  readonly credentials: () => Record<string, string>;
}

export interface LeaseState {
  readonly id: string;
  /** The lease id without its random suffix, e.g. database/creds/app. */
  readonly path: string;
  readonly issuedAt: number;
  expiresAt: number;
  readonly maxExpiresAt: number;
  readonly renewable: boolean;
  /** The role's TTL: what a renewal without an increment asks for. */
  readonly ttl: number;
  revokedAt: number | undefined;
  /** The token that read it: revoking or expiring that token ends the lease too (Vault's lease tree). */
  readonly owner: TokenState;
  readonly credentials: Readonly<Record<string, string>>;
}

/** Whether the lease (and so its credential) is in force now. */
export function leaseAlive(lease: LeaseState, now = Date.now()): boolean {
  return lease.revokedAt === undefined && lease.expiresAt > now && tokenAlive(lease.owner, now);
}

/** What the FakeVault hands the lifecycle endpoints for one request that carried a valid token. */
export interface LifecycleCall {
  readonly token: string;
  readonly info: TokenState;
  /** Without /v1. */
  readonly path: string;
  /** PUT already folded into POST. */
  readonly method: string;
  readonly body: Record<string, unknown>;
  /** Drops the token from the namespaces that know it (revoke-self). */
  readonly forget: () => void;
}

/**
 * The lifecycle endpoints and their state: every lease issued, the refusal switches, and the event
 * log. The FakeVault owns one and routes token and lease calls to it.
 */
export class Lifecycles {
  /** Every lifecycle call (logins, lease issue/renew/revoke, token renew/lookup/revoke, KV v2 writes), in order. */
  readonly events: LifecycleEvent[] = [];
  /** When set, sys/leases/renew is refused with this status (400 "lease is not renewable", 403 denied). */
  refuseLeaseRenewals: 400 | 403 | undefined;
  /** When set, auth/token/renew-self is refused with this status (400 "lease is not renewable", 403 denied). */
  refuseTokenRenewals: 400 | 403 | undefined;
  readonly #leases = new Map<string, LeaseState>();

  /**
   * The token and lease endpoints of Vault's default policy (lookup-self, renew-self, revoke-self,
   * sys/leases/renew), and sys/leases/revoke, which the default policy does not grant (the token's
   * policy must list it). Undefined for any other path.
   */
  handle(call: LifecycleCall): Reply | undefined {
    const { token, info, path, method, body } = call;
    if (path === "auth/token/lookup-self" && method === "GET") {
      this.event("token-lookup", { accessor: info.accessor });
      return ok({
        data: {
          accessor: info.accessor,
          id: token,
          policies: ["default"],
          ttl: ttlLeft(info.expiresAt),
          creation_ttl: info.creationTtl,
          explicit_max_ttl: 0,
          expire_time: info.expiresAt === Infinity ? null : new Date(info.expiresAt).toISOString(),
          issue_time: new Date(info.issuedAt).toISOString(),
          renewable: info.renewable,
          meta: info.metadata,
          num_uses: 0,
          orphan: true,
          path: "auth/token/create",
        },
      });
    }
    if (path === "auth/token/renew-self" && method === "POST") return this.#renewToken(token, info, body);
    if (path === "auth/token/revoke-self" && method === "POST") {
      this.#revokeToken(info, call.forget);
      return { status: 204 };
    }
    if (path === "sys/leases/renew" && method === "POST") return this.#renewLease(body);
    if (path === "sys/leases/revoke" && method === "POST") {
      if (!allowed(info.policy, "sys/leases/revoke")) return errors(403, PERMISSION_DENIED);
      const lease = typeof body["lease_id"] === "string" ? this.#leases.get(body["lease_id"]) : undefined;
      // Vault answers 204 for a lease it does not know (already gone) too.
      if (lease !== undefined && lease.revokedAt === undefined) {
        lease.revokedAt = Date.now();
        this.event("lease-revoke", { path: lease.path, leaseId: lease.id });
      }
      return { status: 204 };
    }
    return undefined;
  }

  #renewToken(token: string, info: TokenState, body: Record<string, unknown>): Reply {
    const refuse = (status: number, ...messages: string[]): Reply => {
      this.event("token-renew", { accessor: info.accessor, refused: status });
      return errors(status, ...messages);
    };
    if (this.refuseTokenRenewals !== undefined)
      return this.refuseTokenRenewals === 403
        ? refuse(403, PERMISSION_DENIED)
        : refuse(400, "lease is not renewable");
    if (info.expiresAt === Infinity) return refuse(400, "invalid lease ID");
    if (!info.renewable) return refuse(400, "lease is not renewable");
    const asked = body["increment"] === undefined ? info.creationTtl : durationSeconds(body["increment"]);
    if (!Number.isFinite(asked)) return refuse(400, "invalid increment");
    const increment = asked > 0 ? asked : info.creationTtl;
    const now = Date.now();
    // At its max TTL (less than a second left) a token cannot be renewed any more.
    if (info.maxExpiresAt - now < 1000) return refuse(400, "past the max TTL, cannot renew");
    const next = renewal(info.maxExpiresAt, increment, now);
    info.expiresAt = next.expiresAt;
    // Vault grants the increment itself, or what is left to the max TTL (in whole seconds).
    const granted = next.capped ? ttlLeft(next.expiresAt, now) : increment;
    this.event("token-renew", { accessor: info.accessor, durationSec: granted, capped: next.capped });
    return ok({
      auth: { ...authBody(token, info), lease_duration: granted },
      ...(next.capped
        ? { warnings: [`TTL of "${asked}s" exceeded the effective max_ttl; TTL value is capped accordingly`] }
        : {}),
    });
  }

  /** revoke-self: the token and, as Vault's lease tree does, every lease it read. */
  #revokeToken(info: TokenState, forget: () => void): void {
    const now = Date.now();
    info.revokedAt = now;
    forget();
    this.event("token-revoke", { accessor: info.accessor });
    for (const lease of this.#leases.values()) {
      if (lease.owner !== info || lease.revokedAt !== undefined) continue;
      lease.revokedAt = now;
      this.event("lease-revoke", { path: lease.path, leaseId: lease.id, withToken: true });
    }
  }

  #renewLease(body: Record<string, unknown>): Reply {
    const id = body["lease_id"];
    const lease = typeof id === "string" ? this.#leases.get(id) : undefined;
    const refuse = (status: number, ...messages: string[]): Reply => {
      this.event("lease-renew", {
        ...(lease === undefined ? {} : { path: lease.path, leaseId: lease.id }),
        refused: status,
      });
      return errors(status, ...messages);
    };
    if (this.refuseLeaseRenewals !== undefined)
      return this.refuseLeaseRenewals === 403
        ? refuse(403, PERMISSION_DENIED)
        : refuse(400, "lease is not renewable");
    if (typeof id !== "string" || id === "") return refuse(400, "invalid lease ID");
    // Vault's expiration manager revokes an expired lease, so it is not found any more.
    if (lease === undefined || !leaseAlive(lease)) return refuse(400, "lease not found");
    if (!lease.renewable) return refuse(400, "lease is not renewable");
    const asked = body["increment"] === undefined ? lease.ttl : durationSeconds(body["increment"]);
    if (!Number.isFinite(asked)) return refuse(400, "invalid increment");
    const increment = asked > 0 ? asked : lease.ttl;
    const now = Date.now();
    if (lease.maxExpiresAt - now < 1000) return refuse(400, "past the max TTL, cannot renew");
    const next = renewal(lease.maxExpiresAt, increment, now);
    lease.expiresAt = next.expiresAt;
    const granted = next.capped ? ttlLeft(next.expiresAt, now) : increment;
    this.event("lease-renew", {
      path: lease.path,
      leaseId: lease.id,
      durationSec: granted,
      capped: next.capped,
    });
    return ok({
      lease_id: lease.id,
      renewable: lease.renewable,
      lease_duration: granted,
      ...(next.capped
        ? { warnings: [`TTL of "${asked}s" exceeded the effective max_ttl; TTL value is capped accordingly`] }
        : {}),
    });
  }

  /** A dynamic secret's lease: its TTL runs from now, renewals extend it up to the role's max TTL. */
  issueLease(
    path: string,
    role: Omit<DatabaseRole, "credentials"> | undefined,
    credentials: Record<string, string>,
    owner: TokenState,
  ): Reply {
    const ttl = role?.ttl ?? 3600;
    const now = Date.now();
    const lease: LeaseState = {
      id: `${path}/${randomBytes(12).toString("base64url")}`,
      path,
      issuedAt: now,
      expiresAt: now + ttl * 1000,
      maxExpiresAt: now + (role?.maxTtl ?? 86_400) * 1000,
      renewable: role?.renewable ?? true,
      ttl,
      revokedAt: undefined,
      owner,
      credentials,
    };
    this.#leases.set(lease.id, lease);
    this.event("lease-issue", { path, leaseId: lease.id, durationSec: ttl });
    return ok({
      data: credentials,
      lease_id: lease.id,
      renewable: lease.renewable,
      lease_duration: ttl,
      mount_type: "database",
    });
  }

  /** Whether a dynamic credential (e.g. {username, password}) is in force now: its lease unexpired, unrevoked, its token alive. */
  credentialValid(credentials: Readonly<Record<string, string>>): boolean {
    const wanted = Object.entries(credentials);
    return [...this.#leases.values()].some(
      (lease) => leaseAlive(lease) && wanted.every(([key, value]) => lease.credentials[key] === value),
    );
  }

  /** Every lease issued, optionally only under a path (e.g. "database/creds/app"). */
  leases(path?: string): readonly LeaseState[] {
    return [...this.#leases.values()].filter((l) => path === undefined || l.path === path);
  }

  /** Lifecycle events of one kind, optionally under a path (lease path, auth mount or KV path). */
  eventsOf(kind: LifecycleKind, path?: string): readonly LifecycleEvent[] {
    return this.events.filter((e) => e.kind === kind && (path === undefined || e.path === path));
  }

  event(kind: LifecycleKind, fields: Omit<LifecycleEvent, "time" | "kind"> = {}): void {
    this.events.push({ time: Date.now(), kind, ...fields });
  }
}

/** The `auth` block of a login or renewal answer. */
export function authBody(token: string, info: TokenState): Record<string, unknown> {
  return {
    client_token: token,
    accessor: info.accessor,
    policies: ["default", "app"],
    token_policies: ["default", "app"],
    metadata: info.metadata,
    lease_duration: ttlLeft(info.expiresAt),
    renewable: info.renewable,
    entity_id: randomUUID(),
    token_type: "service",
    orphan: true,
    mfa_requirement: null,
    num_uses: 0,
  };
}
