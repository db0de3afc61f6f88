// The one retry layer: full-jitter exponential backoff for transient failures only, a per-attempt
// timeout, Retry-After honoured, and an overall deadline that nothing outlives. SDKs' own retries are
// turned down in each provider so that this is the layer that decides.
import { SecretwrapError } from "./errors.ts";

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

export interface Deadline {
  readonly signal: AbortSignal;
  readonly at: number;
  /** Set when the run is being stopped from outside (a signal), not by the clock. */
  readonly interrupted: () => SecretwrapError | undefined;
  /** Set when the run no longer needs this result (another secret failed for good). */
  readonly abandoned?: () => boolean;
}

export interface RetryHooks {
  /** Asked before each retry; false stops retrying (a sibling already failed for good). */
  readonly shouldRetry?: () => boolean;
  readonly onRetry?: (attempt: number, delayMs: number, error: SecretwrapError) => void;
}

export function backoffDelay(attempt: number, policy: RetryPolicy): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.floor(policy.random() * ceiling);
}

export async function withRetry<T>(
  what: string,
  operation: (signal: AbortSignal) => Promise<T>,
  deadline: Deadline,
  policy: RetryPolicy,
  hooks: RetryHooks = {},
): Promise<T> {
  let last: SecretwrapError | undefined;
  for (let attempt = 0; ; attempt++) {
    const stopped = deadline.interrupted();
    if (stopped !== undefined) throw stopped;
    if (deadline.abandoned?.() === true) throw abandoned(what, last);
    if (deadline.signal.aborted || Date.now() >= deadline.at) throw timedOut(what, last);
    const attemptTimer = AbortSignal.timeout(policy.attemptTimeoutMs);
    const signal = AbortSignal.any([deadline.signal, attemptTimer]);
    try {
      return await raceAbort(operation(signal), signal);
    } catch (error) {
      const interrupted = deadline.interrupted();
      if (interrupted !== undefined) throw interrupted;
      if (deadline.abandoned?.() === true) throw abandoned(what, last);
      if (deadline.signal.aborted) throw timedOut(what, last);
      last = attemptTimer.aborted ? attemptTimedOut(what, policy) : classify(error);
    }
    if (!last.transient || hooks.shouldRetry?.() === false) throw last;
    const remaining = deadline.at - Date.now();
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
    hooks.onRetry?.(attempt + 1, delay, last);
    await sleep(delay, deadline.signal);
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

const ABANDONED = new WeakSet<SecretwrapError>();

/** The fetch was given up because another secret failed for good: not a failure of its own. */
export function wasAbandoned(error: SecretwrapError): boolean {
  return ABANDONED.has(error);
}

function abandoned(what: string, last: SecretwrapError | undefined): SecretwrapError {
  const error = new SecretwrapError(
    "FETCH_FAILED",
    `${what}: not fetched, because another secret failed for good`,
    {
      cause: last,
      hint: "fix the other failures listed; this one may well be fine",
    },
  );
  ABANDONED.add(error);
  return error;
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
