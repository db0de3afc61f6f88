// The session's own token under --watch: how long it lives, keeping it alive (renew-self, or a new login
// with the same method when it cannot be renewed any more) and revoking it at exit. A static token the
// user gave is only looked up and renewed, never replaced or revoked here. Nothing here runs in a run
// without --watch, so a normal run's requests are unchanged.
import { type ProviderContext, SecretwrapError, type TokenLifetime } from "../../src/provider-api.ts";
import { lifecycleError, refusal } from "./errors.ts";
import type { Client, TokenGrant } from "./login.ts";
import { PROVIDER } from "./options.ts";
import type { Settings } from "./settings.ts";
import type { CallInfo } from "./transport.ts";

/** Logs in again with the session's method, unless another caller already replaced `stale`. */
export type Relogin = (stale: string, signal: AbortSignal) => Promise<void>;

/**
 * A token whose TTL is 0 never expires; renewToken then has nothing to extend. Only for a token that
 * tokenLifetime already reported as never expiring (undefined), which the watch does not renew.
 */
const NEVER: TokenLifetime = { durationSec: Number.POSITIVE_INFINITY, renewable: false };

interface LookupBody {
  readonly data?: {
    readonly ttl?: unknown;
    readonly creation_ttl?: unknown;
    readonly renewable?: unknown;
    readonly accessor?: unknown;
  } | null;
}

interface RenewBody {
  readonly auth?: {
    readonly client_token?: unknown;
    readonly accessor?: unknown;
    readonly lease_duration?: unknown;
    readonly renewable?: unknown;
  } | null;
}

/** A static token as its last lookup described it. */
interface StaticToken {
  readonly ttlSec: number;
  /** What renew-self asks for: the TTL the token was created with. */
  readonly incrementSec: number;
  renewable: boolean;
}

export class LoginToken {
  readonly #client: Client;
  readonly #settings: Settings;
  readonly #ctx: ProviderContext;
  readonly #relogin: Relogin;
  /** The TTL the last login granted: what each renewal asks for again. */
  #grantedSec = 0;
  /** When the login token runs out (performance.now() ms: a wall-clock step does not move it), 0: never. */
  #expiresAt = 0;
  #renewable = false;
  /** The last renewal was shorter than asked: the token is at its max TTL, so the next one logs in again. */
  #capped = false;
  #static: StaticToken | undefined;
  /** The token revokeToken revoked: close() must not revoke it a second time. */
  #revoked: string | undefined;

  constructor(
    client: Client,
    settings: Settings,
    ctx: ProviderContext,
    relogin: Relogin,
    grant: TokenGrant | undefined,
  ) {
    this.#client = client;
    this.#settings = settings;
    this.#ctx = ctx;
    this.#relogin = relogin;
    this.granted(grant);
  }

  get #isStatic(): boolean {
    return this.#settings.auth.method === "token";
  }

  /** After every login (the first, and each one after): the new token's grant. */
  granted(grant: TokenGrant | undefined): void {
    if (grant === undefined) return;
    this.#grantedSec = grant.durationSec;
    this.#expiresAt = grant.durationSec === 0 ? 0 : performance.now() + grant.durationSec * 1000;
    this.#renewable = grant.renewable;
    this.#capped = false;
  }

  /** Whether the token in use now is the one revokeToken revoked. */
  get revoked(): boolean {
    return this.#revoked !== undefined && this.#revoked === this.#client.token;
  }

  async lifetime(signal: AbortSignal): Promise<TokenLifetime | undefined> {
    if (!this.#isStatic) return this.#loginLifetime();
    const looked = await this.#lookup(signal);
    return looked.ttlSec === 0 ? undefined : { durationSec: looked.ttlSec, renewable: looked.renewable };
  }

  /**
   * A login token can always be extended (renewed, or replaced by a new login), so it is renewable in
   * the contract's sense even when Vault says the token itself is not. The seconds left are rounded to
   * the nearest: right after a login or renewal that is exactly what Vault granted (rounding down would
   * take a whole second off a 3-second token).
   */
  #loginLifetime(): TokenLifetime | undefined {
    if (this.#expiresAt === 0) return undefined;
    return {
      durationSec: Math.max(0, Math.round((this.#expiresAt - performance.now()) / 1000)),
      renewable: true,
    };
  }

  async renew(signal: AbortSignal): Promise<TokenLifetime> {
    if (this.#isStatic) return this.#renewStatic(signal);
    if (this.#expiresAt === 0) return NEVER;
    const stale = this.#client.token;
    // What the old token has left once it is replaced: its leases end with it.
    let leasesEndInSec = (this.#expiresAt - performance.now()) / 1000;
    if (this.#renewable && !this.#capped) {
      const call: CallInfo = {};
      try {
        const duration = await this.#renewSelf(this.#grantedSec, signal, call);
        this.#expiresAt = performance.now() + duration.durationSec * 1000;
        this.#renewable = duration.renewable;
        // Vault caps a renewal at the token's max TTL: the next renewal cannot extend it, a login can.
        this.#capped = duration.durationSec < this.#grantedSec;
        if (this.#capped)
          this.#ctx.log.debug(
            "Vault capped the token renewal at its max TTL; the next renewal logs in again",
            {
              provider: PROVIDER,
            },
          );
        // Less than a second left: nothing to schedule a renewal by, so log in again now.
        if (duration.durationSec >= 1) return this.#loginLifetime() ?? NEVER;
      } catch (error) {
        const refused = refusal(error);
        if (refused === undefined)
          throw this.#error(error, "renewing the token", "auth/token/renew-self", call);
        // 403: Vault no longer knows the token (revoked or expired), and its leases are gone already.
        if (refused === 403) leasesEndInSec = 0;
        this.#ctx.log.debug("Vault refused to renew the token; logging in again", {
          provider: PROVIDER,
          method: this.#settings.auth.method,
        });
      }
    }
    await this.#relogin(stale, signal);
    const replaced = { leasesEndInSec: Math.max(0, Math.floor(leasesEndInSec)) };
    return { ...(this.#loginLifetime() ?? NEVER), replaced };
  }

  /** A static token: renewed when Vault allows it, else only looked up (it can never be replaced). */
  async #renewStatic(signal: AbortSignal): Promise<TokenLifetime> {
    const remembered = this.#static;
    const known = remembered ?? (await this.#lookup(signal));
    if (known.ttlSec === 0) return NEVER;
    if (known.renewable) {
      const call: CallInfo = {};
      try {
        const renewed = await this.#renewSelf(known.incrementSec, signal, call);
        // At its max TTL (0 s left) the token cannot be renewed again.
        known.renewable = renewed.renewable && renewed.durationSec > 0;
        return { durationSec: renewed.durationSec, renewable: known.renewable };
      } catch (error) {
        // 400: not renewable (any more); 403 means the token itself is no longer valid.
        if (refusal(error) !== 400)
          throw this.#error(error, "renewing the token", "auth/token/renew-self", call);
        known.renewable = false;
        this.#ctx.log.debug("Vault refused to renew the static token; watching its expiry instead", {
          provider: PROVIDER,
        });
      }
    } else if (remembered === undefined) {
      return { durationSec: known.ttlSec, renewable: false }; // just looked up
    }
    const now = await this.#lookup(signal);
    now.renewable = false;
    return { durationSec: now.ttlSec, renewable: false };
  }

  async #renewSelf(incrementSec: number, signal: AbortSignal, call: CallInfo): Promise<TokenLifetime> {
    const body = (await this.#client.write(
      "auth/token/renew-self",
      { increment: `${incrementSec}s` },
      { signal, call },
    )) as RenewBody;
    // The same token comes back; its accessor is as good as a handle on it.
    for (const value of [body.auth?.client_token, body.auth?.accessor])
      if (typeof value === "string" && value !== "") this.#ctx.addSecret(value);
    const duration = body.auth?.lease_duration;
    // A renewed token always has a TTL (0 at most when it is at its max); without one the watch would
    // have nothing to schedule by.
    if (typeof duration !== "number" || duration < 0) {
      throw new SecretwrapError(
        "FETCH_FAILED",
        "Vault's answer to renewing the token has no lease_duration",
        {
          subject: { provider: PROVIDER },
        },
      );
    }
    return { durationSec: duration, renewable: body.auth?.renewable === true };
  }

  async #lookup(signal: AbortSignal): Promise<StaticToken> {
    const call: CallInfo = {};
    let body: LookupBody;
    try {
      body = (await this.#client.read("auth/token/lookup-self", { signal, call })) as LookupBody;
    } catch (error) {
      throw this.#error(error, "looking up the token", "auth/token/lookup-self", call);
    }
    const data = body.data ?? {};
    if (typeof data.accessor === "string" && data.accessor !== "") this.#ctx.addSecret(data.accessor);
    const ttlSec = typeof data.ttl === "number" && data.ttl > 0 ? data.ttl : 0;
    const created = typeof data.creation_ttl === "number" && data.creation_ttl > 0 ? data.creation_ttl : 0;
    const looked: StaticToken = {
      ttlSec,
      incrementSec: created > 0 ? created : ttlSec,
      renewable: data.renewable === true,
    };
    this.#static = looked;
    return looked;
  }

  /**
   * Only a token this session logged in for; a static token belongs to whoever gave it. The answer
   * says whether a token was revoked now (not for a static one, nor for one already revoked).
   */
  async revoke(signal: AbortSignal): Promise<boolean> {
    if (this.#isStatic) {
      this.#ctx.log.debug("the static Vault token is not revoked: secretwrap did not obtain it", {
        provider: PROVIDER,
      });
      return false;
    }
    if (this.revoked) return false;
    const token = this.#client.token;
    const call: CallInfo = {};
    try {
      await this.#client.write("auth/token/revoke-self", {}, { signal, call });
    } catch (error) {
      throw this.#error(error, "revoking the token", "auth/token/revoke-self", call);
    }
    this.#revoked = token;
    this.#ctx.log.debug("revoked the Vault login token", { provider: PROVIDER });
    return true;
  }

  #error(error: unknown, action: string, path: string, call: CallInfo = {}): Error {
    return lifecycleError(error, {
      stage: "lifecycle",
      path,
      origin: this.#settings.url.origin,
      call,
      action,
      refusedHint: "the token cannot be renewed (not renewable, or past its max TTL): issue a new one",
    });
  }
}
