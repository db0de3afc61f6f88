// src/watch/watch.ts with a scripted in-memory session on a fake clock: a leased secret read anew
// because its lease ends is a change the app must get before the old lease ends; when it cannot get it
// (the new value is unusable, or the delivery fails), the app still holds the old lease's credentials,
// and at that lease's deadline the credential expired for the app (--on-expiry), once.
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseRef, type Ref } from "../../../src/config/ref.ts";
import type { SecretwrapError } from "../../../src/errors.ts";
import { createLogger } from "../../../src/log.ts";
import type { Plan } from "../../../src/plan.ts";
import type { Fetched, Lease, Session } from "../../../src/provider-api.ts";
import type { Scheme } from "../../../src/provider.ts";
import { Redactor } from "../../../src/redact.ts";
import type { FetchOutcome } from "../../../src/resolve.ts";
import { DEFAULT_RETRY } from "../../../src/retry.ts";
import { Watch } from "../../../src/watch/watch.ts";

const REF = "ref+file:///leased";
const ref = parseRef(REF);
const plan: Plan = {
  fetches: new Map([[ref.raw, ref]]),
  targets: [{ name: "T", ref, key: ref.raw, output: { kind: "env" }, optional: false, source: "test" }],
  schemes: [],
};
const lease = (durationSec: number): Lease => ({ id: "l", durationSec, renewable: false });

class Scripted implements Session {
  readonly consumedEnv = [];
  fetches = 0;
  next: () => Fetched = () => ({ bytes: Buffer.from("v2"), lease: lease(10) });
  fetch(_ref: Ref): Promise<Fetched> {
    this.fetches += 1;
    return Promise.resolve(this.next());
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

interface Run {
  readonly watch: Watch;
  readonly session: Scripted;
  readonly delivered: string[];
  readonly expired: SecretwrapError[];
}

const running: Watch[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((w) => w.stop()));
  vi.useRealTimers();
});

/**
 * A watch of one env target whose first value holds a lease (10 s); `deliver` may be made to fail, or
 * to return the targets the app did not take in.
 */
function watched(deliver: (value: string) => readonly string[] | void = () => {}, firstLeaseSec = 10): Run {
  const session = new Scripted();
  const first: Fetched = { bytes: Buffer.from("v1"), lease: lease(firstLeaseSec) };
  const delivered: string[] = [];
  const expired: SecretwrapError[] = [];
  const redactor = new Redactor();
  const log = createLogger({ level: "error", format: "text", redactor, write: () => {} });
  const watch = new Watch({
    plan,
    mode: "run",
    sessions: new Map<Scheme, Session>([["file", session]]),
    outcomes: new Map<string, FetchOutcome>([[REF, { ok: true, fetched: first, durationMs: 1 }]]),
    delivered: new Map([["T", Buffer.from("v1")]]),
    deliveredPlan: plan,
    options: {
      refreshIntervalMs: 3_600_000,
      onChange: { kind: "auto" },
      onExpiry: "exit",
      revokeOnExit: false,
    },
    timeoutMs: 2_000,
    concurrency: 4,
    rules: { log, redactor, retry: { ...DEFAULT_RETRY, baseDelayMs: 20, maxDelayMs: 100 } },
    log,
    random: () => 0.5,
    deliver: (_change, values) => {
      const value = Buffer.from(values.get("T") ?? []).toString("latin1");
      const kept = deliver(value);
      delivered.push(value);
      return Promise.resolve(kept ?? undefined);
    },
    expired: (error) => expired.push(error),
  });
  running.push(watch);
  return { watch, session, delivered, expired };
}

describe("a leased secret read anew is delivered before the old lease ends, or it expired for the app", () => {
  // A 10 s lease: read anew at ~6.3 s, and its deadline (10 s less a tenth) is 9 s.
  it("delivered: nothing expires", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const run = watched();
    await run.watch.start();
    await vi.advanceTimersByTimeAsync(9_500);
    expect(run.session.fetches).toBe(1);
    expect(run.delivered).toEqual(["v2"]);
    expect(run.expired).toEqual([]);
  });

  it("a new value that cannot be an env value (NUL): the old lease ends for the app at its deadline, told once", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const run = watched();
    run.session.next = () => ({ bytes: Buffer.from("v2\0"), lease: lease(10) });
    await run.watch.start();
    await vi.advanceTimersByTimeAsync(8_800);
    expect(run.session.fetches).toBe(1);
    expect(run.expired).toEqual([]);
    await vi.advanceTimersByTimeAsync(400);
    expect(run.delivered).toEqual([]);
    expect(run.expired.map((e) => [e.code, e.exitCode])).toEqual([["FETCH_FAILED", 69]]);
    expect(run.expired[0]?.message).toContain("the app holds ends");
  });

  it("a delivery that fails until the deadline: expired; one that succeeds on a retry before it: not", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const failing = watched(() => {
      throw new Error("ENOSPC");
    });
    await failing.watch.start();
    await vi.advanceTimersByTimeAsync(9_200);
    expect(failing.expired).toHaveLength(1);
    await failing.watch.stop();

    let attempts = 0;
    // A 30 s lease: read anew at ~19 s, deadline 27 s; the retry 5 s after the failure delivers in time.
    const retried = watched(() => {
      if (++attempts === 1) throw new Error("ENOSPC");
    }, 30);
    await retried.watch.start();
    await vi.advanceTimersByTimeAsync(29_000);
    expect(attempts).toBe(2);
    expect(retried.delivered).toEqual(["v2"]);
    expect(retried.expired).toEqual([]);
  });

  it("delivered, but the app kept its env value (--on-change signal or none): the old lease still ends for it", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const run = watched(() => ["T"]);
    await run.watch.start();
    await vi.advanceTimersByTimeAsync(8_800);
    expect(run.delivered).toEqual(["v2"]);
    expect(run.expired).toEqual([]);
    await vi.advanceTimersByTimeAsync(400);
    expect(run.expired).toHaveLength(1);
  });
});
