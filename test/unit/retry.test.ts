import { describe, expect, it } from "vitest";
import { Cancelled, type Cancellation } from "../../src/cancellation.ts";
import { SecretwrapError } from "../../src/errors.ts";
import { backoffDelay, FetchAbandoned, withRetry, type RetryPolicy } from "../../src/retry.ts";

const policy: RetryPolicy = { attemptTimeoutMs: 200, baseDelayMs: 10, maxDelayMs: 40, random: () => 0.5 };
const deadline = (ms: number): Cancellation => ({
  signal: AbortSignal.timeout(ms),
  deadlineAt: performance.now() + ms,
});
const transient = () => new SecretwrapError("FETCH_FAILED", "503", { transient: true });

describe("withRetry", () => {
  it("retries transient failures until one succeeds", async () => {
    let calls = 0;
    const value = await withRetry(
      "x",
      () => (++calls < 3 ? Promise.reject(transient()) : Promise.resolve("ok")),
      deadline(2000),
      policy,
    );
    expect([value, calls]).toEqual(["ok", 3]);
  });

  it.each(["ACCESS_DENIED", "SECRET_NOT_FOUND", "AUTH_FAILED"] as const)("never retries %s", async (code) => {
    let calls = 0;
    await expect(
      withRetry(
        "x",
        () => (calls++, Promise.reject(new SecretwrapError(code, "no"))),
        deadline(2000),
        policy,
      ),
    ).rejects.toMatchObject({ code });
    expect(calls).toBe(1);
  });

  it("cuts a hung attempt at the per-attempt timeout and retries", async () => {
    let calls = 0;
    const started = Date.now();
    const value = await withRetry(
      "x",
      () => (++calls === 1 ? new Promise<string>(() => {}) : Promise.resolve("ok")),
      deadline(5000),
      policy,
    );
    expect(value).toBe("ok");
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it("gives up at the deadline with FETCH_TIMEOUT naming the last error", async () => {
    const started = Date.now();
    await expect(
      withRetry("x", () => Promise.reject(transient()), deadline(300), policy),
    ).rejects.toMatchObject({
      code: "FETCH_TIMEOUT",
      message: expect.stringMatching(/last error: 503/) as unknown,
    });
    expect(Date.now() - started).toBeLessThan(600);
  });

  it("waits as long as Retry-After asks, and fails fast when that is past the deadline", async () => {
    let times: number[] = [];
    const throttled = () =>
      new SecretwrapError("FETCH_FAILED", "429", { transient: true, retryAfterMs: 150 });
    await withRetry(
      "x",
      () => (times.push(Date.now()), times.length < 2 ? Promise.reject(throttled()) : Promise.resolve(1)),
      deadline(2000),
      policy,
    );
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(140);
    times = [];
    const started = Date.now();
    const far = () => new SecretwrapError("FETCH_FAILED", "429", { transient: true, retryAfterMs: 10_000 });
    await expect(withRetry("x", () => Promise.reject(far()), deadline(1000), policy)).rejects.toThrow(
      /past the deadline/,
    );
    expect(Date.now() - started).toBeLessThan(300);
  });

  it("stops retrying once a sibling failed for good (the signal's reason is abandonment)", async () => {
    const giveUp = new AbortController();
    let calls = 0;
    await expect(
      withRetry(
        "x",
        () => {
          calls++;
          // The sibling fails while this one waits to retry.
          setTimeout(() => giveUp.abort(new Cancelled({ why: "abandoned" })), 1);
          return Promise.reject(transient());
        },
        { signal: giveUp.signal, deadlineAt: performance.now() + 2000 },
        { ...policy, baseDelayMs: 1000, maxDelayMs: 1000 },
      ),
    ).rejects.toBeInstanceOf(FetchAbandoned);
    expect(calls).toBe(1);
  });

  it("B15: an attempt in flight is abandoned at once when another secret failed for good", async () => {
    const giveUp = new AbortController();
    const d: Cancellation = {
      signal: AbortSignal.any([AbortSignal.timeout(5000), giveUp.signal]),
      deadlineAt: performance.now() + 5000,
    };
    setTimeout(() => giveUp.abort(new Cancelled({ why: "abandoned" })), 50);
    const started = Date.now();
    await expect(
      withRetry("x", () => new Promise<string>(() => {}), d, { ...policy, attemptTimeoutMs: 4000 }),
    ).rejects.toThrow(/not fetched, because another secret failed/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("an interruption ends the work with the stop signal's exit code", async () => {
    const stop = new AbortController();
    stop.abort(new Cancelled({ why: "interrupted", by: "SIGTERM" }));
    const d: Cancellation = { signal: stop.signal, deadlineAt: performance.now() + 2000 };
    await expect(withRetry("x", () => Promise.resolve(1), d, policy)).rejects.toMatchObject({
      code: "INTERRUPTED",
      exitCode: 143,
    });
  });

  it("an attempt in flight ends at once when a stop signal comes in", async () => {
    const stop = new AbortController();
    setTimeout(() => stop.abort(new Cancelled({ why: "interrupted", by: "SIGINT" })), 50);
    const d: Cancellation = { signal: stop.signal, deadlineAt: performance.now() + 5000 };
    await expect(withRetry("x", () => new Promise<string>(() => {}), d, policy)).rejects.toMatchObject({
      code: "INTERRUPTED",
      exitCode: 130,
    });
  });
});

describe("backoffDelay (full jitter)", () => {
  it("stays within [0, min(cap, base·2^n))", () => {
    const p = { ...policy, random: () => 0.999 };
    expect([0, 1, 2, 3, 10].map((n) => backoffDelay(n, p))).toEqual([9, 19, 39, 39, 39]);
    expect(backoffDelay(5, { ...policy, random: () => 0 })).toBe(0);
  });
});
