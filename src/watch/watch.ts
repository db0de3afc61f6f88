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
import { asSecretwrapError, type SecretwrapError } from "../errors.ts";
import { changeBetween, type Change } from "./change.ts";
import { Lifecycle } from "./lifecycle.ts";
import type { WatchOptions } from "./options.ts";
import { revokeAll } from "./revoke.ts";

export interface WatchInput {
  readonly plan: Plan;
  readonly mode: DeliveryMode;
  readonly sessions: ReadonlyMap<Scheme, Session>;
  readonly outcomes: ReadonlyMap<string, FetchOutcome>;
  /** The values the app was given at start, per target. */
  readonly delivered: ReadonlyMap<string, Uint8Array>;
  readonly options: WatchOptions;
  readonly timeoutMs: number;
  readonly concurrency: number;
  readonly rules: FetchRules & { readonly redactor: Redactor };
  readonly log: Logger;
  readonly random?: () => number;
  /**
   * Hands a change to the app (swap the files, tell it): all or nothing. If it throws, the app keeps
   * what it has and the change is tried again after a while.
   */
  readonly deliver: (change: Change, values: ReadonlyMap<string, Uint8Array>) => Promise<void>;
  /** A lease or token could not be kept alive (once per credential). */
  readonly expired: (error: SecretwrapError) => void;
}

/** How long a failed delivery waits before it is tried again. */
const REDELIVER_MS = 5_000;

export class Watch {
  readonly #input: WatchInput;
  readonly #lifecycle: Lifecycle;
  readonly #outcomes: Map<string, FetchOutcome>;
  #delivered: ReadonlyMap<string, Uint8Array>;
  #queue: Promise<void> = Promise.resolve();
  #queued = false;
  #retry: NodeJS.Timeout | undefined;

  constructor(input: WatchInput) {
    this.#input = input;
    this.#outcomes = new Map(input.outcomes);
    this.#delivered = input.delivered;
    this.#lifecycle = new Lifecycle({
      plan: input.plan,
      sessions: input.sessions,
      outcomes: this.#outcomes,
      rules: input.rules,
      refreshIntervalMs: input.options.refreshIntervalMs,
      timeoutMs: input.timeoutMs,
      concurrency: input.concurrency,
      random: input.random ?? Math.random,
      changed: () => this.#schedule(),
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
    });
  }

  async #deliverNow(): Promise<void> {
    const { plan, mode, log } = this.#input;
    const next = targetValues(plan, this.#outcomes, mode, this.#input.rules.redactor);
    if (next.failures.length > 0) {
      // A new value that cannot be used (a #field gone from the rotated secret, a NUL in an env value):
      // the app keeps the whole set it has rather than a mix.
      for (const failure of next.failures)
        log.warn(`${failure.message}; the app keeps the values it has`, { secret: failure.subject.secret });
      return;
    }
    const change = changeBetween(plan, this.#delivered, next.values);
    if (change.names.length === 0) {
      log.debug("a new version with the same content: nothing to deliver");
      return;
    }
    try {
      await this.#input.deliver(change, next.values);
    } catch (error) {
      const failure = asSecretwrapError(error);
      log.error(`could not deliver the new secrets: ${failure.message}; the app keeps what it has, retrying`);
      clearTimeout(this.#retry);
      this.#retry = setTimeout(() => this.#schedule(), REDELIVER_MS);
      return;
    }
    this.#delivered = next.values;
    for (const report of next.reports)
      if (change.names.includes(report.name)) auditLine(log, { ...report, status: "ok" }, "rotated");
  }
}
