// src/cancellation.ts: the run's one signal is aborted by the deadline or by the first stop signal,
// and its reason says which.
import { describe, expect, it } from "vitest";
import { cancelReason, runCancellation } from "../../src/cancellation.ts";
import { SecretwrapError } from "../../src/errors.ts";
import { DEFAULT_RETRY, withRetry } from "../../src/retry.ts";
import type { ForwardedSignal } from "../../src/signals.ts";

/** The part of SignalRouter the cancellation listens to, with a way to send it a stop signal. */
function fakeRouter(stopRequested?: ForwardedSignal) {
  const listeners = new Set<(signal: ForwardedSignal) => void>();
  return {
    stopRequested,
    onStop(listener: (signal: ForwardedSignal) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop(signal: ForwardedSignal) {
      for (const listener of listeners) listener(signal);
    },
    listening: () => listeners.size,
  };
}

const later = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("runCancellation", () => {
  it("aborts at the deadline with the timeout reason", async () => {
    const run = runCancellation(fakeRouter(), 50);
    expect(run.deadlineAt).toBeGreaterThan(performance.now());
    expect(cancelReason(run.signal)).toBeUndefined();
    await later(80);
    expect(cancelReason(run.signal)).toEqual({ why: "timeout" });
    run.dispose();
  });

  it("aborts on a stop signal with the interrupted reason naming it", () => {
    const router = fakeRouter();
    const run = runCancellation(router, 5_000);
    router.stop("SIGINT");
    expect(cancelReason(run.signal)).toEqual({ why: "interrupted", by: "SIGINT" });
    // The reason is an AbortError, as SDKs that throw an aborted signal's reason expect.
    expect((run.signal.reason as Error).name).toBe("AbortError");
    run.dispose();
  });

  it("is aborted from the start when a stop signal came before it was made", () => {
    const run = runCancellation(fakeRouter("SIGTERM"), 5_000);
    expect(cancelReason(run.signal)).toEqual({ why: "interrupted", by: "SIGTERM" });
    run.dispose();
  });

  it("dispose stops listening and ends the timer", async () => {
    const router = fakeRouter();
    const run = runCancellation(router, 30);
    run.dispose();
    expect(router.listening()).toBe(0);
    await later(60);
    expect(run.signal.aborted).toBe(false);
  });

  it("a foreign abort reason reads as a timeout (a plain AbortSignal.timeout in tests)", () => {
    const controller = new AbortController();
    controller.abort();
    expect(cancelReason(controller.signal)).toEqual({ why: "timeout" });
  });
});

describe("deadlines are on the monotonic clock (E15)", () => {
  it("a wall clock stepped a day ahead neither ends a retry early nor lets it run past its time", async () => {
    const realNow = Date.now;
    const run = runCancellation(fakeRouter(), 400);
    Date.now = () => realNow() + 86_400_000; // NTP steps the clock
    try {
      let attempts = 0;
      const started = performance.now();
      await expect(
        withRetry(
          "x",
          () => {
            attempts++;
            return Promise.reject(new SecretwrapError("FETCH_FAILED", "503", { transient: true }));
          },
          run,
          { ...DEFAULT_RETRY, baseDelayMs: 10, maxDelayMs: 20 },
        ),
      ).rejects.toMatchObject({ code: "FETCH_TIMEOUT" });
      expect(attempts).toBeGreaterThan(3);
      expect(performance.now() - started).toBeGreaterThanOrEqual(350);
    } finally {
      Date.now = realNow;
      run.dispose();
    }
  });
});
