// src/watch/lifecycle.ts with a scripted in-memory session (the providers' own lifecycle calls are
// tested over real HTTP in test/providers/*-lifecycle/-versions tests): what the loop does with each
// answer — renew before expiry with the first grant as increment, a new read once capped or refused,
// a credential reported expired when neither works in time, the version check spared a download,
// unchanged bytes are no change, and nothing runs after stop().
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseRef, type Ref } from "../../../src/config/ref.ts";
import { SecretwrapError } from "../../../src/errors.ts";
import { createLogger } from "../../../src/log.ts";
import type { Plan } from "../../../src/plan.ts";
import type { Fetched, Lease, Session, TokenLifetime } from "../../../src/provider-api.ts";
import type { Scheme } from "../../../src/provider.ts";
import { Redactor } from "../../../src/redact.ts";
import type { FetchOutcome } from "../../../src/resolve.ts";
import { DEFAULT_RETRY } from "../../../src/retry.ts";
import { Lifecycle } from "../../../src/watch/lifecycle.ts";

const REF = "ref+file:///watched";

function planOf(raw: string): Plan {
  const ref = parseRef(raw);
  return {
    fetches: new Map([[ref.raw, ref]]),
    targets: [{ name: "T", ref, key: ref.raw, output: { kind: "env" }, optional: false, source: "test" }],
    schemes: [],
  };
}

type Call = { readonly what: string; readonly at: number; readonly arg?: unknown };

/** A session whose every answer the test scripts; it records each call and when it came. */
class Scripted implements Session {
  readonly consumedEnv = [];
  readonly calls: Call[] = [];
  readonly started = performance.now();
  fetchAnswer: () => Promise<Fetched> = () => Promise.resolve({ bytes: Buffer.from("v1"), version: "1" });
  versionAnswer: (() => Promise<string | undefined>) | undefined;
  renewAnswer: ((lease: Lease, incrementSec: number) => Promise<Lease>) | undefined;
  tokenAnswer: (() => Promise<TokenLifetime>) | undefined;
  lifetime: TokenLifetime | undefined;

  #note(what: string, arg?: unknown): void {
    this.calls.push({ what, at: performance.now() - this.started, arg });
  }
  count(what: string): number {
    return this.calls.filter((c) => c.what === what).length;
  }
  fetch(_ref: Ref): Promise<Fetched> {
    this.#note("fetch");
    return this.fetchAnswer();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  checkVersion(): Promise<string | undefined> {
    this.#note("checkVersion");
    return this.versionAnswer === undefined ? Promise.resolve(undefined) : this.versionAnswer();
  }
  renew(lease: Lease, incrementSec: number): Promise<Lease> {
    this.#note("renew", incrementSec);
    if (this.renewAnswer === undefined) throw new Error("renew not scripted");
    return this.renewAnswer(lease, incrementSec);
  }
  tokenLifetime(): Promise<TokenLifetime | undefined> {
    return Promise.resolve(this.lifetime);
  }
  renewToken(): Promise<TokenLifetime> {
    this.#note("renewToken");
    if (this.tokenAnswer === undefined) throw new Error("renewToken not scripted");
    return this.tokenAnswer();
  }
}

interface Run {
  readonly lifecycle: Lifecycle;
  readonly changed: string[][];
  readonly expired: SecretwrapError[];
  readonly warnings: string[];
}

const running: Lifecycle[] = [];
afterEach(() => running.splice(0).forEach((l) => l.stop()));

function watch(session: Scripted, first: Fetched, options: { refreshIntervalMs?: number } = {}): Run {
  const plan = planOf(REF);
  const outcomes = new Map<string, FetchOutcome>([[REF, { ok: true, fetched: first, durationMs: 1 }]]);
  const warnings: string[] = [];
  const log = createLogger({
    level: "debug",
    format: "text",
    redactor: new Redactor(),
    write: (line) => {
      if (line.includes("warn")) warnings.push(line);
    },
  });
  const run: Run = { changed: [], expired: [], warnings, lifecycle: undefined as unknown as Lifecycle };
  const lifecycle = new Lifecycle({
    plan,
    sessions: new Map<Scheme, Session>([["file", session]]),
    outcomes,
    rules: { log, redactor: new Redactor(), retry: { ...DEFAULT_RETRY, baseDelayMs: 20, maxDelayMs: 100 } },
    refreshIntervalMs: options.refreshIntervalMs ?? 3_600_000,
    timeoutMs: 2_000,
    concurrency: 4,
    random: () => 0.5,
    changed: (keys) => run.changed.push([...keys]),
    expired: (error) => run.expired.push(error),
  });
  running.push(lifecycle);
  return { ...run, lifecycle };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const lease = (durationSec: number, renewable = true): Lease => ({ id: "l", durationSec, renewable });

describe("the watch lifecycle", () => {
  it("renews a lease before it expires, asking for the first grant's duration each time", async () => {
    const session = new Scripted();
    session.renewAnswer = () => Promise.resolve(lease(1));
    const run = watch(session, { bytes: Buffer.from("v1"), lease: lease(1) });
    await run.lifecycle.start();
    await sleep(2_300);
    run.lifecycle.stop();
    const renewals = session.calls.filter((c) => c.what === "renew");
    // at ~0.63 s, then every ~0.63 s: three in 2.3 s, each before the previous grant ran out
    expect(renewals.length).toBeGreaterThanOrEqual(3);
    renewals.forEach((r) => expect(r.arg).toBe(1));
    let grantedAt = 0;
    for (const r of renewals) {
      expect(r.at - grantedAt).toBeLessThan(1_000);
      grantedAt = r.at;
    }
    expect(run.expired).toEqual([]);
    expect(session.count("fetch")).toBe(0);
  });

  it("once a renewal is capped (max TTL), the next step reads a new secret before expiry: a change", async () => {
    const session = new Scripted();
    session.renewAnswer = () => Promise.resolve(lease(0.6)); // less than asked: capped
    session.fetchAnswer = () => Promise.resolve({ bytes: Buffer.from("v2"), lease: lease(5) });
    const run = watch(session, { bytes: Buffer.from("v1"), lease: lease(1) });
    await run.lifecycle.start();
    await sleep(1_400);
    expect(session.count("renew")).toBe(1);
    expect(session.count("fetch")).toBe(1);
    const fetchAt = session.calls.find((c) => c.what === "fetch")?.at ?? Infinity;
    const renewAt = session.calls.find((c) => c.what === "renew")?.at ?? 0;
    expect(fetchAt - renewAt).toBeLessThan(600);
    expect(run.changed).toEqual([[REF]]);
    expect(run.lifecycle.heldLeases().map((h) => h.lease.durationSec)).toEqual([5]);
  });

  it("a refused renewal switches to a new read at once (no retry storm)", async () => {
    const session = new Scripted();
    session.renewAnswer = () =>
      Promise.reject(new SecretwrapError("FETCH_FAILED", "lease not found", { transient: false }));
    session.fetchAnswer = () => Promise.resolve({ bytes: Buffer.from("v2"), lease: lease(30) });
    const run = watch(session, { bytes: Buffer.from("v1"), lease: lease(1) });
    await run.lifecycle.start();
    await sleep(1_000);
    expect(session.count("renew")).toBe(1);
    expect(session.count("fetch")).toBe(1);
    expect(run.changed).toHaveLength(1);
    expect(run.warnings.join("\n")).toContain("could not renew the lease");
  });

  it("when neither renewal nor a new read works, the lease is reported expired before it ends", async () => {
    const session = new Scripted();
    session.renewAnswer = () => Promise.reject(new SecretwrapError("ACCESS_DENIED", "permission denied"));
    session.fetchAnswer = () => Promise.reject(new SecretwrapError("ACCESS_DENIED", "permission denied"));
    const run = watch(session, { bytes: Buffer.from("v1"), lease: lease(1) });
    await run.lifecycle.start();
    await sleep(1_000);
    expect(run.expired).toHaveLength(1);
    expect(run.expired[0]?.exitCode).toBe(77);
    expect(run.expired[0]?.message).toContain("could not be kept alive");
    expect(run.changed).toEqual([]);
  });

  it("a renewal that keeps failing transiently is retried, then reported expired before the end (69)", async () => {
    const session = new Scripted();
    session.renewAnswer = () =>
      Promise.reject(new SecretwrapError("FETCH_FAILED", "503", { transient: true }));
    const run = watch(session, { bytes: Buffer.from("v1"), lease: lease(1) });
    await run.lifecycle.start();
    await sleep(1_200);
    expect(session.count("renew")).toBeGreaterThan(1);
    expect(run.expired).toHaveLength(1);
    expect(run.expired[0]?.exitCode).toBe(69);
    // given up at the margin (0.9 s of a 1 s lease), not after the lease ended
    const last = session.calls.filter((c) => c.what === "renew").at(-1)?.at ?? Infinity;
    expect(last).toBeLessThan(1_000);
  });

  it("a non-renewable token is reported expired just before it ends; a renewable one is renewed", async () => {
    const fixed = new Scripted();
    fixed.lifetime = { durationSec: 1, renewable: false };
    const a = watch(fixed, { bytes: Buffer.from("v1"), version: "1" });
    const renewable = new Scripted();
    renewable.lifetime = { durationSec: 1, renewable: true };
    renewable.tokenAnswer = () => Promise.resolve({ durationSec: 1, renewable: true });
    const b = watch(renewable, { bytes: Buffer.from("v1"), version: "1" });
    await Promise.all([a.lifecycle.start(), b.lifecycle.start()]);
    await sleep(1_500);
    expect(a.expired.map((e) => e.exitCode)).toEqual([77]);
    expect(b.expired).toEqual([]);
    expect(renewable.count("renewToken")).toBeGreaterThanOrEqual(2);
  });

  it("a token replaced by a new login has its session's leased secrets read again at once (their leases end with it)", async () => {
    const session = new Scripted();
    session.lifetime = { durationSec: 1, renewable: true };
    session.tokenAnswer = () =>
      Promise.resolve({ durationSec: 60, renewable: true, replaced: { leasesEndInSec: 0 } });
    session.renewAnswer = () => Promise.resolve(lease(60));
    session.fetchAnswer = () => Promise.resolve({ bytes: Buffer.from("v2"), lease: lease(60) });
    const run = watch(session, { bytes: Buffer.from("v1"), lease: lease(60) });
    await run.lifecycle.start();
    await sleep(900);
    expect(session.count("renewToken")).toBe(1);
    expect(session.count("fetch")).toBe(1);
    expect(session.count("renew")).toBe(0); // the old lease's renewal timer no longer acts
    expect(run.changed).toEqual([[REF]]);
    expect(run.lifecycle.heldLeases()).toHaveLength(1);
  });

  it("a lease longer than Node's timer limit (24.8 days) is not renewed at once, nor is one that never expires", async () => {
    const session = new Scripted();
    session.renewAnswer = () => Promise.resolve(lease(90 * 86_400));
    const long = watch(session, { bytes: Buffer.from("v1"), lease: lease(90 * 86_400) });
    const never = new Scripted();
    never.lifetime = { durationSec: Number.POSITIVE_INFINITY, renewable: true };
    never.tokenAnswer = () => Promise.resolve({ durationSec: 1, renewable: true });
    const forever = watch(never, { bytes: Buffer.from("v1"), version: "1" });
    await Promise.all([long.lifecycle.start(), forever.lifecycle.start()]);
    await sleep(300);
    expect(session.count("renew")).toBe(0);
    expect(never.count("renewToken")).toBe(0);
    expect([...long.expired, ...forever.expired]).toEqual([]);
  });

  it("a year-long lease is renewed and watched like any other (its deadline is beyond the timer limit)", async () => {
    const session = new Scripted();
    const year = 365 * 86_400;
    session.renewAnswer = () => Promise.resolve(lease(year));
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    try {
      const run = watch(session, { bytes: Buffer.from("v1"), lease: lease(year) });
      await run.lifecycle.start();
      // two thirds of a year on the fake clock: the wait is taken in steps, then the renewal runs
      await vi.advanceTimersByTimeAsync((year * 1000 * 2) / 3);
      expect(session.count("renew")).toBe(1);
      expect(run.expired).toEqual([]);
      run.lifecycle.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it("an unchanged version costs no download; a new version with new bytes is a change, with the same bytes none", async () => {
    const session = new Scripted();
    let version = "1";
    let bytes = "v1";
    session.versionAnswer = () => Promise.resolve(version);
    session.fetchAnswer = () => Promise.resolve({ bytes: Buffer.from(bytes), version });
    const run = watch(session, { bytes: Buffer.from("v1"), version: "1" });
    await run.lifecycle.refreshNow();
    expect([session.count("checkVersion"), session.count("fetch")]).toEqual([1, 0]);
    version = "2"; // same bytes under a new version
    await run.lifecycle.refreshNow();
    expect(session.count("fetch")).toBe(1);
    expect(run.changed).toEqual([]);
    version = "3";
    bytes = "v3";
    await run.lifecycle.refreshNow();
    expect(run.changed).toEqual([[REF]]);
    await run.lifecycle.refreshNow(); // version 3 is now the known one
    expect(session.count("fetch")).toBe(2);
  });

  it("a refresh that fails keeps what the app has and says so; the next one recovers", async () => {
    const session = new Scripted();
    session.versionAnswer = () => Promise.reject(new SecretwrapError("ACCESS_DENIED", "403"));
    const run = watch(session, { bytes: Buffer.from("v1"), version: "1" });
    await run.lifecycle.refreshNow();
    expect(run.changed).toEqual([]);
    expect(run.expired).toEqual([]);
    expect(run.warnings.join("\n")).toContain("the app keeps what it has");
    session.versionAnswer = () => Promise.resolve("2");
    session.fetchAnswer = () => Promise.resolve({ bytes: Buffer.from("v2"), version: "2" });
    await run.lifecycle.refreshNow();
    expect(run.changed).toEqual([[REF]]);
  });

  it("checks asked for while one runs join it: a burst costs the provider one round", async () => {
    const session = new Scripted();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    session.versionAnswer = async () => {
      await gate;
      return "1";
    };
    const run = watch(session, { bytes: Buffer.from("v1"), version: "1" });
    const burst = Array.from({ length: 20 }, () => run.lifecycle.refreshNow());
    release();
    await Promise.all(burst);
    expect(session.count("checkVersion")).toBe(1);
    await run.lifecycle.refreshNow(); // once it ended, the next one is a round of its own
    expect(session.count("checkVersion")).toBe(2);
  });

  it("refreshes run on their own every interval, and nothing runs after stop()", async () => {
    const session = new Scripted();
    session.versionAnswer = () => Promise.resolve("1");
    const run = watch(session, { bytes: Buffer.from("v1"), version: "1" }, { refreshIntervalMs: 100 });
    await run.lifecycle.start();
    await sleep(550);
    const seen = session.count("checkVersion");
    expect(seen).toBeGreaterThanOrEqual(3);
    run.lifecycle.stop();
    await sleep(300);
    expect(session.count("checkVersion")).toBe(seen);
  });
});
