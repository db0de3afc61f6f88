// The timers of --watch: each lease renewed at about two thirds of its life and, once the service caps
// it (max TTL) or refuses, replaced by a new secret before it expires; each session's login token
// renewed the same way; every other secret re-checked each --refresh-interval (±20 %) with its
// provider's cheapest version check. It reports what changed and what could not be kept alive; what
// that means for the app (swap, signal, restart, stop) is decided by its caller.
import type { Cancellation } from "../cancellation.ts";
import { describeRef, fetchKey, REF_PREFIX, type Ref } from "../config/ref.ts";
import { asSecretwrapError, SecretwrapError } from "../errors.ts";
import type { Plan } from "../plan.ts";
import type { Scheme } from "../provider.ts";
import type { Lease, Session, TokenLifetime } from "../provider-api.ts";
import { fetchOne, mapLimit, retryLog, type FetchOutcome, type FetchRules } from "../resolve.ts";
import { withRetry } from "../retry.ts";
import { expiryMarginMs, firstRefreshDelay, refreshDelay, renewalCapped, renewDelay } from "./schedule.ts";

export interface LifecycleInput {
  readonly plan: Plan;
  readonly sessions: ReadonlyMap<Scheme, Session>;
  /** The current outcome of every fetch: updated here as secrets are read anew. */
  readonly outcomes: Map<string, FetchOutcome>;
  readonly rules: FetchRules;
  readonly refreshIntervalMs: number;
  /** --timeout: how long one refresh of a secret may take, retries included. */
  readonly timeoutMs: number;
  readonly concurrency: number;
  readonly random: () => number;
  /**
   * The fetch keys whose value was read anew and differs from before (one call per check). `replaced`:
   * a leased secret read anew because its lease ends; the app holds the old one until the new value
   * is delivered, and no later than `replaced.deadlineAt` (performance.now()).
   */
  readonly changed: (keys: readonly string[], replaced?: ReplacedLease) => void;
  /** A lease or token could not be kept alive; told once per credential. */
  readonly expired: (error: SecretwrapError) => void;
}

/** The lease a leased secret's previous value belongs to, which ends soon after `deadlineAt`. */
export interface ReplacedLease {
  readonly deadlineAt: number;
  readonly what: string;
  readonly scheme: Scheme;
}

/** A lease held now, for revocation at exit. */
export interface HeldLease {
  readonly scheme: Scheme;
  readonly session: Session;
  readonly lease: Lease;
  readonly ref: Ref;
}

/** Where a lease stands: what was asked at the first grant, and whether the service capped it since. */
interface LeaseState {
  readonly key: string;
  readonly ref: Ref;
  readonly session: Session;
  readonly lease: Lease;
  readonly grantedAt: number;
  readonly askSec: number;
  readonly capped: boolean;
}

/** The longest delay setTimeout honours. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export class Lifecycle {
  readonly #input: LifecycleInput;
  readonly #stop = new AbortController();
  readonly #timers = new Set<NodeJS.Timeout>();
  /** The lease each leased secret holds now. */
  readonly #leases = new Map<string, LeaseState>();
  /**
   * Bumped each time a secret's lease is replaced or rescheduled: a timer or a read that started for an
   * older one sees it is no longer current and does nothing (it must not renew a lease given up, or
   * put back what a newer read replaced).
   */
  readonly #generations = new Map<string, number>();
  /** The check of every secret under way, if any (refreshNow). */
  #refreshing: Promise<void> | undefined;

  constructor(input: LifecycleInput) {
    this.#input = input;
    for (const [key, ref] of input.plan.fetches) {
      const outcome = input.outcomes.get(key);
      const session = input.sessions.get(ref.scheme);
      if (outcome?.ok !== true || outcome.fetched.lease === undefined || session === undefined) continue;
      const lease = outcome.fetched.lease;
      this.#leases.set(key, {
        key,
        ref,
        session,
        lease,
        grantedAt: performance.now(),
        askSec: lease.durationSec,
        capped: false,
      });
    }
  }

  get stopped(): boolean {
    return this.#stop.signal.aborted;
  }

  /** Starts every timer; resolves once each session's token lifetime is known. */
  async start(): Promise<void> {
    for (const state of [...this.#leases.values()]) this.#watchLease(state);
    this.#scheduleRefresh();
    await Promise.all(
      [...this.#input.sessions].map(([scheme, session]) => this.#watchToken(scheme, session)),
    );
  }

  /** Ends every timer and aborts what is in flight; nothing is reported after this. */
  stop(): void {
    this.#stop.abort();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  /** The leases held now (each replaced lease is left to expire: the app may still use it). */
  heldLeases(): HeldLease[] {
    return [...this.#leases.values()].map(({ ref, session, lease }) => ({
      scheme: ref.scheme,
      session,
      lease,
      ref,
    }));
  }

  /** A new generation for `key`: whatever runs for an older one stops acting on it. */
  #bump(key: string): number {
    const generation = (this.#generations.get(key) ?? 0) + 1;
    this.#generations.set(key, generation);
    return generation;
  }

  #current(key: string, generation: number): boolean {
    return !this.stopped && this.#generations.get(key) === generation;
  }

  #after(ms: number, task: () => Promise<void>): void {
    if (this.stopped || !(ms < Infinity)) return; // a credential that never expires needs no timer
    // Node fires a timer longer than 2^31-1 ms (24.8 days) after 1 ms instead: a 60-day lease would
    // renew in a loop. A long wait is taken in steps.
    const step = Math.min(Math.max(0, ms), MAX_TIMER_MS);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (ms > MAX_TIMER_MS) {
        this.#after(ms - MAX_TIMER_MS, task);
        return;
      }
      task().catch((error: unknown) => {
        if (!this.stopped) this.#input.expired(asSecretwrapError(error));
      });
    }, step);
    this.#timers.add(timer);
  }

  /**
   * Runs work that must end by `deadlineAt` (performance.now()) or when the watch stops, under one
   * signal of its own, aborted when the work ends. Node keeps every AbortSignal.any() that was listened
   * to (as the retry loop's per-attempt signals are) until it aborts: a check whose signal never
   * aborted kept ~600 bytes for good (bench/watch-abortsignal-repro.mjs). Ending each check's signal
   * ends those too; nothing of a check runs on after it.
   */
  async #within<T>(deadlineAt: number, work: (cancellation: Cancellation) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    const abort = (): void => controller.abort();
    // Whole milliseconds, at most the timer limit (a year-long lease's deadline is further off).
    const left = Math.min(MAX_TIMER_MS, Math.max(0, Math.floor(deadlineAt - performance.now())));
    const timer = setTimeout(abort, left);
    this.#stop.signal.addEventListener("abort", abort, { once: true });
    try {
      return await work({ signal: controller.signal, deadlineAt });
    } finally {
      clearTimeout(timer);
      this.#stop.signal.removeEventListener("abort", abort);
      controller.abort();
    }
  }

  /** The moment `marginMs` before `expiresAt`. */
  #deadline(expiresAt: number, marginMs: number): number {
    return expiresAt - marginMs;
  }

  #watchLease(state: LeaseState): void {
    const { key, ref, session, lease } = state;
    this.#leases.set(key, state);
    const generation = this.#bump(key);
    const what = secretOf(ref);
    const expiresAt = state.grantedAt + lease.durationSec * 1000;
    this.#after(renewDelay(lease.durationSec, this.#input.random), async () => {
      if (!this.#current(key, generation)) return;
      // The margin of this grant: after a capped renewal it is shorter than the first one.
      const deadlineAt = this.#deadline(expiresAt, expiryMarginMs(lease.durationSec));
      if (lease.renewable && session.renew !== undefined && !state.capped) {
        const renew = session.renew.bind(session);
        try {
          const renewed = await this.#within(deadlineAt, (cancellation) =>
            withRetry(
              `renewing the lease of ${what}`,
              (signal) => renew(lease, state.askSec, signal),
              cancellation,
              this.#input.rules.retry,
              retryLog(this.#input.rules.log, `renewing the lease of ${what}`),
            ),
          );
          const capped = renewalCapped(state.askSec, renewed.durationSec);
          this.#input.rules.log.info(`renewed the lease of ${what}`, {
            provider: ref.scheme,
            ref: what,
            durationSec: renewed.durationSec,
            ...(capped ? { capped: "max TTL reached; a new secret is read before it expires" } : {}),
          });
          if (this.#current(key, generation))
            this.#watchLease({ ...state, lease: renewed, grantedAt: performance.now(), capped });
          return;
        } catch (error) {
          if (!this.#current(key, generation)) return;
          const failure = asSecretwrapError(error);
          if (failure.code === "FETCH_TIMEOUT") {
            this.#input.expired(notKept(`the lease of ${what}`, failure, ref.scheme));
            return;
          }
          this.#input.rules.log.warn(
            `could not renew the lease of ${what}: ${failure.message}; reading a new secret`,
            { provider: ref.scheme },
          );
        }
      }
      await this.#replaceLeased(state, deadlineAt);
    });
  }

  /** A new secret for a lease that can no longer be renewed (or died with its token): a change for the app. */
  async #replaceLeased(state: LeaseState, deadlineAt: number): Promise<void> {
    const { key, ref, session } = state;
    const generation = this.#bump(key);
    const what = secretOf(ref);
    const started = Date.now();
    try {
      const fetched = await this.#within(deadlineAt, (cancellation) =>
        fetchOne(session, ref, cancellation, this.#input.rules),
      );
      if (!this.#current(key, generation)) return;
      this.#input.outcomes.set(key, { ok: true, fetched, durationMs: Date.now() - started });
      this.#input.rules.log.info(`read a new secret for ${what} before its lease ends`, {
        provider: ref.scheme,
        ref: what,
        version: fetched.version,
        durationSec: fetched.lease?.durationSec,
      });
      if (fetched.lease === undefined) this.#leases.delete(key);
      else
        this.#watchLease({
          ...state,
          lease: fetched.lease,
          grantedAt: performance.now(),
          askSec: fetched.lease.durationSec,
          capped: false,
        });
      this.#input.changed([key], { deadlineAt, what, scheme: ref.scheme });
    } catch (error) {
      if (!this.#current(key, generation)) return;
      this.#input.expired(notKept(`the lease of ${what}`, asSecretwrapError(error), ref.scheme));
    }
  }

  /**
   * The session logged in again: the leases it read with the old token end with that token, so each is
   * read again with the new one now, at the latest by the time the old token ends (or, if it has
   * already, within --timeout).
   */
  #replaceLeasesOf(session: Session, leasesEndInSec: number): void {
    const deadlineAt =
      performance.now() +
      Math.max(leasesEndInSec * 1000 - expiryMarginMs(leasesEndInSec), this.#input.timeoutMs);
    for (const state of [...this.#leases.values()]) {
      if (state.session !== session) continue;
      this.#input.rules.log.info(
        `the login token was replaced: reading ${secretOf(state.ref)} again (its lease ends with the old token)`,
        { provider: state.ref.scheme, ref: secretOf(state.ref) },
      );
      void this.#replaceLeased(state, deadlineAt);
    }
  }

  async #watchToken(scheme: Scheme, session: Session): Promise<void> {
    if (session.tokenLifetime === undefined) return;
    const lifetime = session.tokenLifetime.bind(session);
    let current: TokenLifetime | undefined;
    try {
      current = await this.#within(performance.now() + this.#input.timeoutMs, (cancellation) =>
        withRetry(
          `looking up the ${scheme} login token`,
          (signal) => lifetime(signal),
          cancellation,
          this.#input.rules.retry,
          retryLog(this.#input.rules.log, `looking up the ${scheme} login token`),
        ),
      );
    } catch (error) {
      if (this.stopped) return;
      this.#input.rules.log.warn(
        `could not learn when the ${scheme} login token expires: ${asSecretwrapError(error).message}; it is not watched`,
        { provider: scheme },
      );
      return;
    }
    if (current !== undefined) this.#scheduleToken(scheme, session, current, performance.now());
  }

  #scheduleToken(scheme: Scheme, session: Session, lifetime: TokenLifetime, grantedAt: number): void {
    const expiresAt = grantedAt + lifetime.durationSec * 1000;
    const margin = expiryMarginMs(lifetime.durationSec);
    if (!lifetime.renewable || session.renewToken === undefined) {
      this.#after(lifetime.durationSec * 1000 - margin, () => {
        this.#input.expired(
          new SecretwrapError(
            "AUTH_FAILED",
            `the ${scheme} token expires in ${Math.ceil(margin / 1000)}s and cannot be renewed`,
            {
              hint: "give secretwrap a renewable token, or a login method (it then logs in again)",
              subject: { provider: scheme },
            },
          ),
        );
        return Promise.resolve();
      });
      return;
    }
    const renewToken = session.renewToken.bind(session);
    this.#after(renewDelay(lifetime.durationSec, this.#input.random), async () => {
      try {
        const next = await this.#within(this.#deadline(expiresAt, margin), (cancellation) =>
          withRetry(
            `renewing the ${scheme} login token`,
            (signal) => renewToken(signal),
            cancellation,
            this.#input.rules.retry,
            retryLog(this.#input.rules.log, `renewing the ${scheme} login token`),
          ),
        );
        this.#input.rules.log.info(
          next.replaced === undefined ? `renewed the ${scheme} login token` : `logged in to ${scheme} again`,
          { provider: scheme, durationSec: next.durationSec },
        );
        this.#scheduleToken(scheme, session, next, performance.now());
        if (next.replaced !== undefined) this.#replaceLeasesOf(session, next.replaced.leasesEndInSec);
      } catch (error) {
        if (this.stopped) return;
        this.#input.expired(notKept(`the ${scheme} login token`, asSecretwrapError(error), scheme));
      }
    });
  }

  #scheduleRefresh(first = true): void {
    const delay = first ? firstRefreshDelay : refreshDelay;
    this.#after(delay(this.#input.refreshIntervalMs, this.#input.random), async () => {
      await this.refreshNow();
      this.#scheduleRefresh(false);
    });
  }

  /**
   * One check of every secret without a lease: its version where the provider has a cheap check,
   * else the value itself. A failure keeps the value the app has (it is reported, the app is not
   * told anything), and the next interval tries again.
   */
  refreshNow(): Promise<void> {
    // One check at a time: a call while one runs joins it (a burst of SIGHUPs to render --watch, or a
    // SIGHUP as the interval's check runs, costs the provider one round, not one per call).
    this.#refreshing ??= this.#refreshOnce().finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  async #refreshOnce(): Promise<void> {
    const { plan, outcomes, sessions, rules } = this.#input;
    const changed: string[] = [];
    const due = [...plan.fetches].filter(([key]) => !this.#leases.has(key));
    await mapLimit(due, this.#input.concurrency, async ([key, ref]) => {
      const session = sessions.get(ref.scheme);
      if (session === undefined || this.stopped) return;
      const before = outcomes.get(key);
      const what = secretOf(ref);
      const started = Date.now();
      try {
        const known = before?.ok === true ? before.fetched.version : undefined;
        const fetched = await this.#within(
          performance.now() + this.#input.timeoutMs,
          async (cancellation) => {
            if (known !== undefined && session.checkVersion !== undefined) {
              const check = session.checkVersion.bind(session);
              const version = await withRetry(
                `checking ${what}`,
                (signal) => check(ref, signal),
                cancellation,
                rules.retry,
                retryLog(this.#input.rules.log, `checking ${what}`),
              );
              if (version === known) return undefined;
            }
            return await fetchOne(session, ref, cancellation, rules);
          },
        );
        if (fetched === undefined || this.stopped) return;
        const same = before?.ok === true && Buffer.from(before.fetched.bytes).equals(fetched.bytes);
        outcomes.set(key, { ok: true, fetched, durationMs: Date.now() - started });
        if (!same) changed.push(key);
      } catch (error) {
        if (this.stopped) return;
        const failure = asSecretwrapError(error);
        // An optional secret that was absent and still is: nothing to say.
        if (before?.ok !== true && failure.code === "SECRET_NOT_FOUND") return;
        rules.log.warn(`could not refresh ${what}: ${failure.message}; the app keeps what it has`, {
          provider: ref.scheme,
        });
      }
    });
    if (changed.length > 0 && !this.stopped) this.#input.changed(changed);
  }
}

/** A credential that could not be renewed or replaced in time: the error the run ends with. */
function notKept(what: string, failure: SecretwrapError, provider: Scheme): SecretwrapError {
  const code = failure.code === "FETCH_TIMEOUT" ? "FETCH_FAILED" : failure.code;
  const why =
    failure.code === "FETCH_TIMEOUT"
      ? failure.message.replace(/: gave up at the --timeout deadline/, "")
      : failure.message;
  return new SecretwrapError(code, `${what} could not be kept alive before it expires: ${why}`, {
    hint: failure.hint,
    subject: { ...failure.subject, provider },
    cause: failure,
  });
}

/** The secret a fetch reads, as logs name it: the reference without a #field (several fields share it). */
export function secretOf(ref: Ref): string {
  return describeRef(`${REF_PREFIX}${fetchKey(ref)}`);
}
