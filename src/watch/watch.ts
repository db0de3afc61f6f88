// One watch, for `run --watch` and `render --watch` alike: the lifecycle's timers, the delivery of each
// change (one at a time, the whole set of values at once, never a value that failed to resolve), and at
// the end the revocation of leases and tokens and the closing of every session.
import type { Logger } from "../log.ts";
import type { Plan } from "../plan.ts";
import type { Scheme } from "../provider.ts";
import type { Session } from "../provider-api.ts";
import type { Redactor } from "../redact.ts";
import { auditLine } from "../report.ts";
import { closeSession, type FetchOutcome, type FetchRules } from "../resolve.ts";
import { targetValues, type DeliveryMode } from "../target-values.ts";
import { asSecretwrapError, SecretwrapError } from "../errors.ts";
import { changeBetween, type Change } from "./change.ts";
import { Lifecycle, MAX_TIMER_MS, type ReplacedLease } from "./lifecycle.ts";
import type { WatchOptions } from "./options.ts";
import { revokeAll } from "./revoke.ts";

export interface WatchInput {
  readonly plan: Plan;
  readonly mode: DeliveryMode;
  readonly sessions: ReadonlyMap<Scheme, Session>;
  readonly outcomes: ReadonlyMap<string, FetchOutcome>;
  /** The values the app was given at start, per target. */
  readonly delivered: ReadonlyMap<string, Uint8Array>;
  /** The plan they were delivered by (an expanded declaration as one target per key). */
  readonly deliveredPlan: Plan;
  readonly options: WatchOptions;
  readonly timeoutMs: number;
  readonly concurrency: number;
  readonly rules: FetchRules & { readonly redactor: Redactor };
  readonly log: Logger;
  readonly random?: () => number;
  /**
   * Hands a change to the app (swap the files, tell it): all or nothing. If it throws, the app keeps
   * what it has and the change is tried again after a while. Returns the targets the app did not take
   * in (an env target under --on-change signal or none): it keeps their old values, and their old
   * leases still count for it.
   */
  readonly deliver: (
    change: Change,
    values: ReadonlyMap<string, Uint8Array>,
    /** The plan of these values: an expanded secret may have other keys than before. */
    plan: Plan,
  ) => Promise<readonly string[] | undefined>;
  /** A lease or token could not be kept alive (once per credential). */
  readonly expired: (error: SecretwrapError) => void;
  /** A delivery ended and no other change waits (run --watch starts the app a restart stopped). */
  readonly settled?: () => void;
}

/** How long a failed delivery waits before it is tried again. */
const REDELIVER_MS = 5_000;

export class Watch {
  readonly #input: WatchInput;
  readonly #lifecycle: Lifecycle;
  readonly #outcomes: Map<string, FetchOutcome>;
  #delivered: ReadonlyMap<string, Uint8Array>;
  #deliveredPlan: Plan;
  #queue: Promise<void> = Promise.resolve();
  #queued = false;
  #retry: NodeJS.Timeout | undefined;
  /**
   * Leased secrets read anew whose new value has not reached the app: it still holds the old lease's
   * credentials, which end at its deadline. If no delivery replaces them by then, the credential
   * expired for the app (--on-expiry), whatever the new lease does.
   */
  readonly #undelivered = new Map<string, ReplacedLease>();
  #undeliveredTimer: NodeJS.Timeout | undefined;

  constructor(input: WatchInput) {
    this.#input = input;
    this.#outcomes = new Map(input.outcomes);
    this.#delivered = input.delivered;
    this.#deliveredPlan = input.deliveredPlan;
    this.#lifecycle = new Lifecycle({
      plan: input.plan,
      sessions: input.sessions,
      outcomes: this.#outcomes,
      rules: input.rules,
      refreshIntervalMs: input.options.refreshIntervalMs,
      timeoutMs: input.timeoutMs,
      concurrency: input.concurrency,
      random: input.random ?? Math.random,
      changed: (keys, replaced) => {
        // The first replacement not delivered is the lease the app holds (a later one replaced it only in here).
        if (replaced !== undefined)
          for (const key of keys) if (!this.#undelivered.has(key)) this.#undelivered.set(key, replaced);
        this.#armUndelivered();
        this.#schedule();
      },
      expired: input.expired,
    });
  }

  start(): Promise<void> {
    return this.#lifecycle.start();
  }

  /** Checks every secret without a lease now, out of turn (render --watch on SIGHUP). */
  refreshNow(): Promise<void> {
    return this.#lifecycle.refreshNow();
  }

  /** Stops every timer; a delivery under way finishes first (it is all or nothing). */
  async stop(): Promise<void> {
    this.#lifecycle.stop();
    clearTimeout(this.#retry);
    clearTimeout(this.#undeliveredTimer);
    await this.#queue;
  }

  /** After stop(): gives up leases and tokens (--revoke-on-exit), then closes every session. */
  async end(): Promise<void> {
    const { sessions, log, options } = this.#input;
    if (options.revokeOnExit) await revokeAll(this.#lifecycle.heldLeases(), sessions, log);
    await Promise.all([...sessions].map(([scheme, session]) => closeSession(session, scheme, log)));
  }

  /** Changes are delivered one at a time; several found meanwhile become one delivery. */
  #schedule(): void {
    if (this.#queued || this.#lifecycle.stopped) return;
    this.#queued = true;
    this.#queue = this.#queue.then(async () => {
      this.#queued = false;
      if (this.#lifecycle.stopped) return;
      await this.#deliverNow();
      if (!this.#queued) this.#input.settled?.();
    });
  }

  async #deliverNow(): Promise<void> {
    const { plan, mode, log } = this.#input;
    // What this delivery gives the app: the leases replaced up to now (not one replaced meanwhile).
    const covered = [...this.#undelivered];
    const next = targetValues(plan, this.#outcomes, mode, this.#input.rules.redactor);
    if (next.failures.length > 0) {
      // A new value that cannot be used (a #field gone from the rotated secret, a NUL in an env value,
      // a new key of an expanded secret whose name collides): the app keeps the whole set it has
      // rather than a mix.
      for (const failure of next.failures)
        log.warn(`${failure.message}; the app keeps the values it has`, { secret: failure.subject.secret });
      return;
    }
    const change = changeBetween(next.plan, this.#delivered, next.values, this.#deliveredPlan);
    if (change.names.length === 0) {
      log.debug("a new version with the same content: nothing to deliver");
      this.#delivering(covered);
      return;
    }
    let kept: readonly string[] | undefined;
    try {
      kept = await this.#input.deliver(change, next.values, next.plan);
    } catch (error) {
      const failure = asSecretwrapError(error);
      log.error(`could not deliver the new secrets: ${failure.message}; the app keeps what it has, retrying`);
      clearTimeout(this.#retry);
      this.#retry = setTimeout(() => this.#schedule(), REDELIVER_MS);
      return;
    }
    this.#delivered = next.values;
    this.#deliveredPlan = next.plan;
    const keptKeys = new Set(
      next.plan.targets.filter((t) => kept?.includes(t.name) === true).map((t) => t.key),
    );
    this.#delivering(covered.filter(([key]) => !keptKeys.has(key)));
    for (const report of next.reports)
      if (change.names.includes(report.name)) auditLine(log, { ...report, status: "ok" }, "rotated");
  }

  /** The app holds the values of these replaced leases now: their old leases no longer matter. */
  #delivering(covered: readonly (readonly [string, ReplacedLease])[]): void {
    for (const [key, replaced] of covered)
      if (this.#undelivered.get(key) === replaced) this.#undelivered.delete(key);
    this.#armUndelivered();
  }

  /** A timer for the first old lease the app still holds: at its deadline, it expired for the app. */
  #armUndelivered(): void {
    clearTimeout(this.#undeliveredTimer);
    this.#undeliveredTimer = undefined;
    if (this.#undelivered.size === 0 || this.#lifecycle.stopped) return;
    const first = Math.min(...[...this.#undelivered.values()].map((r) => r.deadlineAt));
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, Math.ceil(first - performance.now())));
    this.#undeliveredTimer = setTimeout(() => {
      const now = performance.now();
      for (const [key, replaced] of [...this.#undelivered]) {
        if (replaced.deadlineAt > now) continue;
        this.#undelivered.delete(key);
        this.#input.expired(
          new SecretwrapError(
            "FETCH_FAILED",
            `the lease of ${replaced.what} that the app holds ends, and the new secret read for it could not be given to the app`,
            {
              hint: "see the warning or error above about the new value; the app keeps credentials that no longer work",
              subject: { provider: replaced.scheme },
            },
          ),
        );
      }
      this.#armUndelivered();
    }, wait);
  }
}
