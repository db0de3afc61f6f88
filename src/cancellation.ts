// The one cancellation signal of a resolution. Whatever ends the work early aborts one AbortSignal,
// and its reason says why, so every layer (the retry loop, resolve, a provider's SDK call) reads the
// same fact instead of asking several callbacks: the --timeout deadline passed, a stop signal came
// in, or a sibling secret failed for good so this one is no longer needed.
import type { SignalRouter } from "./signals.ts";

export type CancelReason =
  | { readonly why: "timeout" }
  | { readonly why: "interrupted"; readonly by: NodeJS.Signals }
  | { readonly why: "abandoned" };

/**
 * The signal's reason. An Error named AbortError: some SDKs throw an aborted signal's reason as it
 * is, and their callers expect an abort to look like one.
 */
export class Cancelled extends Error {
  override readonly name = "AbortError";
  readonly reason: CancelReason;

  constructor(reason: CancelReason) {
    super(`cancelled: ${reason.why}`);
    this.reason = reason;
  }
}

/** Why the signal was aborted; a foreign reason (a plain AbortSignal.timeout in tests) is a timeout. */
export function cancelReason(signal: AbortSignal): CancelReason | undefined {
  if (!signal.aborted) return undefined;
  return signal.reason instanceof Cancelled ? signal.reason.reason : { why: "timeout" };
}

/** A signal and the moment its deadline falls (a wait that would end past it is not started). */
export interface Cancellation {
  readonly signal: AbortSignal;
  /**
   * On the monotonic clock (performance.now()), so a wall-clock jump neither ends the work early nor
   * keeps it past its time: a --watch renewal retries across hours in which NTP may step the clock.
   */
  readonly deadlineAt: number;
}

/**
 * A run's cancellation: aborted at the --timeout deadline, or by the first stop signal (also one
 * that came before this was made). `dispose` stops listening; the timer never holds the process.
 */
export function runCancellation(
  router: Pick<SignalRouter, "onStop" | "stopRequested">,
  timeoutMs: number,
): Cancellation & { readonly dispose: () => void } {
  const controller = new AbortController();
  const interrupt = (by: NodeJS.Signals): void => controller.abort(new Cancelled({ why: "interrupted", by }));
  const timer = setTimeout(() => controller.abort(new Cancelled({ why: "timeout" })), timeoutMs);
  timer.unref();
  const unsubscribe = router.onStop(interrupt);
  if (router.stopRequested !== undefined) interrupt(router.stopRequested);
  return {
    signal: controller.signal,
    deadlineAt: performance.now() + timeoutMs,
    dispose: () => {
      clearTimeout(timer);
      unsubscribe();
    },
  };
}
