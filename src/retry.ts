// The one retry layer: full-jitter exponential backoff for transient failures only, a per-attempt
// timeout, Retry-After honoured, and an overall deadline that nothing outlives. SDKs' own retries are
// turned down in each provider so that this is the layer that decides.
import { setMaxListeners } from "node:events";
import { cancelReason, type CancelReason, type Cancellation } from "./cancellation.ts";
import { SecretwrapError } from "./errors.ts";
import { stoppedBy } from "./signals.ts";

export interface RetryPolicy {
  readonly attemptTimeoutMs: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** 0 ≤ random() < 1; injectable for tests. */
  readonly random: () => number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attemptTimeoutMs: 10_000,
  baseDelayMs: 250,
  maxDelayMs: 30_000,
  random: Math.random,
};

/** Told before each wait for the next attempt (debug logging). */
export type OnRetry = (attempt: number, delayMs: number, error: SecretwrapError) => void;

export function backoffDelay(attempt: number, policy: RetryPolicy): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.floor(policy.random() * ceiling);
}

/**
 * Runs `operation` until it succeeds, fails for good, or `cancellation` ends it; the error thrown then
 * says why (cancelledError).
 */
export async function withRetry<T>(
  what: string,
  operation: (signal: AbortSignal) => Promise<T>,
  cancellation: Cancellation,
  policy: RetryPolicy,
  onRetry?: OnRetry,
): Promise<T> {
  const { signal: runSignal, deadlineAt } = cancellation;
  let last: SecretwrapError | undefined;
  for (let attempt = 0; ; attempt++) {
    const reason = cancelReason(runSignal) ?? (performance.now() >= deadlineAt ? TIMEOUT : undefined);
    if (reason !== undefined) throw cancelledError(reason, what, last);
    const attemptSignal = new AttemptSignal(runSignal, policy.attemptTimeoutMs);
    try {
      return await raceAbort(operation(attemptSignal.signal), attemptSignal.signal);
    } catch (error) {
      const cancelled = cancelReason(runSignal);
      if (cancelled !== undefined) throw cancelledError(cancelled, what, last);
      last = attemptSignal.timedOut ? attemptTimedOut(what, policy) : classify(error);
    } finally {
      attemptSignal.ended();
    }
    if (!last.transient) throw last;
    const remaining = deadlineAt - performance.now();
    if (last.retryAfterMs !== undefined && last.retryAfterMs > remaining) {
      throw new SecretwrapError(
        "FETCH_FAILED",
        `${last.message}; the server asked to wait ${Math.ceil(last.retryAfterMs / 1000)}s, past the deadline`,
        {
          hint: "the provider is throttling; retry later or raise --timeout",
          cause: last,
        },
      );
    }
    const delay = Math.min(last.retryAfterMs ?? backoffDelay(attempt, policy), Math.max(0, remaining));
    onRetry?.(attempt + 1, delay, last);
    await sleep(delay, runSignal);
  }
}

const TIMEOUT: CancelReason = { why: "timeout" };

/** The error for an operation that cancellation ended: a stop signal's 128+N, abandonment or the deadline. */
function cancelledError(
  reason: CancelReason,
  what: string,
  last: SecretwrapError | undefined,
): SecretwrapError {
  switch (reason.why) {
    case "interrupted":
      return stoppedBy(reason.by);
    case "abandoned":
      return new FetchAbandoned(what, last);
    case "timeout":
      return timedOut(what, last);
  }
}

/**
 * One attempt's signal: aborted with the run's reason when the run's signal is, or with a TimeoutError
 * when the attempt's time is up. A controller of our own, not AbortSignal.any(): Node keeps every
 * AbortSignal.any() that was listened to for the life of the process (~600 bytes an attempt, and a
 * --watch run makes one per check). The link to the run's signal stays after the attempt: a provider
 * may tie a request that outlives it to it (a token prefetch), so stopping the run still ends it.
 */
class AttemptSignal {
  readonly #controller = new AbortController();
  readonly #timer: NodeJS.Timeout;
  timedOut = false;

  constructor(run: AbortSignal, timeoutMs: number) {
    const controller = this.#controller;
    this.#timer = setTimeout(() => {
      this.timedOut = true;
      controller.abort(new DOMException("The operation was aborted due to timeout", "TimeoutError"));
    }, timeoutMs);
    this.#timer.unref();
    if (run.aborted) controller.abort(run.reason);
    else {
      // One listener per attempt, for as long as the run's signal lives: a run makes a bounded number
      // of attempts, and a --watch check's signal is its own and dies with the check.
      setMaxListeners(0, run);
      run.addEventListener("abort", () => controller.abort(run.reason), { once: true });
    }
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The attempt is over: its timer goes (its run link stays, see above). */
  ended(): void {
    clearTimeout(this.#timer);
  }
}

/** Some SDKs ignore the abort signal mid-request; the attempt still ends when the signal fires. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error instanceof Error ? error : new Error(`non-Error rejection: ${typeof error}`));
      },
    );
  });
}

function classify(error: unknown): SecretwrapError {
  if (error instanceof SecretwrapError) return error;
  // A provider is meant to map every failure; an unmapped one is reported by kind only, because SDK
  // messages can carry request details.
  const kind = error instanceof Error ? error.name : typeof error;
  return new SecretwrapError("FETCH_FAILED", `unexpected ${kind} from the provider`, { cause: error });
}

const SLOW_HINT = "raise --timeout (or --attempt-timeout), or check why the provider is slow";

function attemptTimedOut(what: string, policy: RetryPolicy): SecretwrapError {
  return new SecretwrapError("FETCH_FAILED", `${what}: no answer within ${policy.attemptTimeoutMs / 1000}s`, {
    transient: true,
    hint: SLOW_HINT,
  });
}

/**
 * The deadline passed while retrying: the fix is the last failure's (a refused connection is fixed
 * by starting the service, not by waiting longer), so its hint is kept; without one, it was slowness.
 */
function timedOut(what: string, last: SecretwrapError | undefined): SecretwrapError {
  const reason = last === undefined ? "" : ` (last error: ${last.message})`;
  return new SecretwrapError("FETCH_TIMEOUT", `${what}: gave up at the --timeout deadline${reason}`, {
    cause: last,
    hint: last?.hint ?? SLOW_HINT,
  });
}

/** The fetch was given up because another secret failed for good: not a failure of its own. */
export class FetchAbandoned extends SecretwrapError {
  constructor(what: string, last: SecretwrapError | undefined) {
    super("FETCH_FAILED", `${what}: not fetched, because another secret failed for good`, {
      cause: last,
      hint: "fix the other failures listed; this one may well be fine",
    });
    this.name = "FetchAbandoned";
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
