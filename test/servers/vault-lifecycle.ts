// The time-bound half of the fake Vault (test/servers/vault.ts): leases of dynamic secrets and tokens
// with a TTL, a max TTL and renewal, as Vault's expiration manager keeps them. Everything is judged
// against Date.now() when asked, so a lease really is dead once its time has passed: a credential is
// valid only while its lease is unexpired, unrevoked, and its token (the lease's parent) is alive.
// Each lifecycle call is kept as an event with its time and outcome, for tests that check renewals
// came before expiry and that revocations happened.

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
