// src/resolve.ts with an in-memory provider injected in place of the real ones: abandonment, the
// deadline, a stop signal, the concurrency limit, which failures are retried, and the duties resolve
// takes off every provider (the provider named in each error, the size cap).
import { describe, expect, it } from "vitest";
import { Cancelled, cancelReason, type CancelReason, type Cancellation } from "../../src/cancellation.ts";
import { parseRef, type Ref } from "../../src/config/ref.ts";
import { requireAll } from "../../src/commands/steps.ts";
import { SecretsFailedError, SecretwrapError } from "../../src/errors.ts";
import { MAX_SECRET_BYTES } from "../../src/limits.ts";
import { createLogger } from "../../src/log.ts";
import type { Plan } from "../../src/plan.ts";
import type { Fetched, Provider, Session } from "../../src/provider-api.ts";
import type { Scheme } from "../../src/provider.ts";
import { Redactor } from "../../src/redact.ts";
import { resolvePlan, type FetchOutcome, type ResolveOptions } from "../../src/resolve.ts";
import { targetValues } from "../../src/target-values.ts";

/** What the fake does for one fetch of `ref`: its `attempt`th (from 1), under `signal`. */
type Answer = (ref: Ref, signal: AbortSignal, attempt: number) => Promise<Fetched>;

interface Fake {
  readonly provider: Provider;
  /** Fetches made per reference, and the cancellation reason each aborted one saw. */
  readonly attempts: Map<string, number>;
  readonly aborted: Map<string, CancelReason | undefined>;
  inFlight: number;
  maxInFlight: number;
  logins: number;
}

function fake(answer: Answer, options: { readonly batchSize?: number } = {}): Fake {
  const state: Fake = {
    attempts: new Map(),
    aborted: new Map(),
    inFlight: 0,
    maxInFlight: 0,
    logins: 0,
    provider: {
      connect: () => {
        state.logins++;
        const session: Session = {
          consumedEnv: ["FAKE_TOKEN"],
          ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
          fetch: async (ref, signal) => {
            const attempt = (state.attempts.get(ref.raw) ?? 0) + 1;
            state.attempts.set(ref.raw, attempt);
            signal.addEventListener("abort", () => state.aborted.set(ref.raw, cancelReason(signal)));
            state.inFlight++;
            state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
            try {
              return await answer(ref, signal, attempt);
            } finally {
              state.inFlight--;
            }
          },
          close: () => Promise.resolve(),
        };
        return Promise.resolve(session);
      },
    },
  };
  return state;
}

const value = (text: string): Fetched => ({ bytes: Buffer.from(text), version: "1" });
const transient = (): SecretwrapError => new SecretwrapError("FETCH_FAILED", "503", { transient: true });
/** Never answers; ends only when its signal does (as a provider that honours the signal). */
const hang = (signal: AbortSignal): Promise<never> =>
  new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason as Error)));
const later = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One fetch per reference, each delivered to an env variable named T0, T1, … */
function planOf(...raws: string[]): Plan {
  const refs = raws.map((raw) => parseRef(raw));
  return {
    fetches: new Map(refs.map((ref) => [ref.raw, ref])),
    targets: refs.map((ref, i) => ({
      name: `T${i}`,
      ref,
      key: ref.raw,
      output: { kind: "env" },
      optional: false,
      source: "test",
    })),
    schemes: [],
  };
}

function cancellation(ms: number, signal: AbortSignal = AbortSignal.timeout(ms)): Cancellation {
  return { signal, deadlineAt: performance.now() + ms };
}

function resolve(
  plan: Plan,
  providers: Partial<Record<Scheme, Fake>>,
  overrides: Partial<ResolveOptions> = {},
): ReturnType<typeof resolvePlan> {
  return resolvePlan(plan, {
    loadProvider: (scheme) => {
      const found = providers[scheme];
      return found === undefined
        ? Promise.reject(new Error(`no fake for ${scheme}`))
        : Promise.resolve(found.provider);
    },
    env: {},
    providerOptions: {},
    log: createLogger({ level: "error", format: "text", redactor: new Redactor(), write: () => {} }),
    redactor: new Redactor(),
    cancellation: cancellation(5_000),
    retry: { attemptTimeoutMs: 2_000, baseDelayMs: 20, maxDelayMs: 20, random: () => 0.5 },
    concurrency: 8,
    stopOnFailure: true,
    ...overrides,
  });
}

function failure(outcome: FetchOutcome | undefined): Extract<FetchOutcome, { ok: false }> {
  if (outcome === undefined || outcome.ok) throw new Error("expected a failed outcome");
  return outcome;
}

const A = "ref+file://a";
const B = "ref+file://b";
const C = "ref+file://c";

describe("resolvePlan", () => {
  it("a sibling failing for good abandons the others: no more retries, in-flight fetches end at once", async () => {
    const provider = fake(async (ref, signal) => {
      if (ref.raw === A) {
        await later(50);
        throw new SecretwrapError("ACCESS_DENIED", "denied");
      }
      if (ref.raw === B) throw transient(); // retried every 20 ms until abandoned
      return hang(signal);
    });
    const started = Date.now();
    const { outcomes } = await resolve(planOf(A, B, C), { file: provider });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(failure(outcomes.get(A))).toMatchObject({ abandoned: false, error: { code: "ACCESS_DENIED" } });
    expect(failure(outcomes.get(B)).abandoned).toBe(true);
    expect(failure(outcomes.get(C)).abandoned).toBe(true);
    expect(provider.aborted.get(C)).toEqual({ why: "abandoned" });
    const retriesOfB = provider.attempts.get(B) ?? 0;
    await later(100);
    expect(provider.attempts.get(B)).toBe(retriesOfB);
  });

  it("the run then fails with the real error alone; the abandoned secrets are named as not fetched", async () => {
    const provider = fake(async (ref, signal) => {
      if (ref.raw !== A) return hang(signal);
      await later(20);
      throw new SecretwrapError("ACCESS_DENIED", "denied");
    });
    const plan = planOf(A, B, C);
    const { outcomes } = await resolve(plan, { file: provider });
    const values = targetValues(plan, outcomes, "run", new Redactor());
    expect(values.notFetched).toEqual(["T1", "T2"]);
    let error: unknown;
    try {
      requireAll(values);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(SecretsFailedError);
    const failed = error as SecretsFailedError;
    expect(failed.message).toBe(
      "1 of 3 secrets could not be resolved (2 more not fetched after that: T1, T2)",
    );
    expect(failed.failures.map((f) => [f.subject.secret, f.code])).toEqual([["T0", "ACCESS_DENIED"]]);
    expect(failed.exitCode).toBe(77);
  });

  it("check (stopOnFailure off) gives every secret its own answer", async () => {
    const provider = fake(async (ref) => {
      if (ref.raw === A) throw new SecretwrapError("ACCESS_DENIED", "denied");
      await later(50);
      return value("b");
    });
    const { outcomes } = await resolve(planOf(A, B), { file: provider }, { stopOnFailure: false });
    expect(failure(outcomes.get(A)).abandoned).toBe(false);
    expect(outcomes.get(B)?.ok).toBe(true);
  });

  it("not found does not abandon the others (an optional secret may be absent)", async () => {
    const provider = fake(async (ref) => {
      if (ref.raw === A) throw new SecretwrapError("SECRET_NOT_FOUND", "none");
      await later(50);
      return value("b");
    });
    const { outcomes } = await resolve(planOf(A, B), { file: provider });
    expect(failure(outcomes.get(A)).error.code).toBe("SECRET_NOT_FOUND");
    expect(outcomes.get(B)?.ok).toBe(true);
  });

  it("the deadline ends every in-flight fetch with the timeout reason", async () => {
    const provider = fake((_, signal) => hang(signal));
    const started = Date.now();
    const { outcomes } = await resolve(
      planOf(A, B, C),
      { file: provider },
      { cancellation: cancellation(150) },
    );
    expect(Date.now() - started).toBeLessThan(1_000);
    for (const raw of [A, B, C]) {
      expect(failure(outcomes.get(raw))).toMatchObject({
        abandoned: false,
        error: { code: "FETCH_TIMEOUT" },
      });
      expect(provider.aborted.get(raw)).toEqual({ why: "timeout" });
    }
  });

  it("a stop signal interrupts every fetch with its exit code (128+N)", async () => {
    const stop = new AbortController();
    const provider = fake((_, signal) => hang(signal));
    setTimeout(() => stop.abort(new Cancelled({ why: "interrupted", by: "SIGINT" })), 50);
    const { outcomes } = await resolve(
      planOf(A, B),
      { file: provider },
      {
        cancellation: cancellation(5_000, stop.signal),
      },
    );
    for (const raw of [A, B]) {
      expect(failure(outcomes.get(raw)).error).toMatchObject({ code: "INTERRUPTED", exitCode: 130 });
      expect(provider.aborted.get(raw)).toEqual({ why: "interrupted", by: "SIGINT" });
    }
  });

  it("respects the concurrency limit per provider, times the session's batch size", async () => {
    const refs = Array.from({ length: 12 }, (_, i) => `ref+file://s${i}`);
    const single = fake(async () => (await later(20), value("x")));
    await resolve(planOf(...refs), { file: single }, { concurrency: 3 });
    expect(single.maxInFlight).toBe(3);
    const batched = fake(async () => (await later(20), value("x")), { batchSize: 2 });
    await resolve(planOf(...refs), { file: batched }, { concurrency: 3 });
    expect(batched.maxInFlight).toBe(6);
  });

  it("logs in once per provider and fetches each provider's secrets in its own session", async () => {
    const file = fake(() => Promise.resolve(value("f")));
    const vault = fake(() => Promise.resolve(value("v")));
    const { outcomes, consumedEnv } = await resolve(planOf(A, B, "ref+vault://secret/app#x"), {
      file,
      vault,
    });
    expect([file.logins, vault.logins]).toEqual([1, 1]);
    expect([...outcomes.values()].every((o) => o.ok)).toBe(true);
    expect(consumedEnv).toEqual(["FAKE_TOKEN", "FAKE_TOKEN"]);
  });

  it("retries transient failures only", async () => {
    const provider = fake(async (ref, _, attempt) => {
      await later(1);
      if (ref.raw === A && attempt < 3) throw transient();
      if (ref.raw === B) throw new SecretwrapError("AUTH_FAILED", "bad token");
      return value("a");
    });
    const { outcomes } = await resolve(planOf(A, B), { file: provider }, { stopOnFailure: false });
    expect(outcomes.get(A)?.ok).toBe(true);
    expect(provider.attempts.get(A)).toBe(3);
    expect(failure(outcomes.get(B)).error.code).toBe("AUTH_FAILED");
    expect(provider.attempts.get(B)).toBe(1);
  });

  it("names the provider and the reference on every error a session throws", async () => {
    const provider = fake(() => Promise.reject(new SecretwrapError("ACCESS_DENIED", "denied")));
    const { outcomes } = await resolve(planOf(A), { file: provider });
    expect(failure(outcomes.get(A)).error.subject).toEqual({ provider: "file", ref: A });
  });

  it("a provider that fails to load fails each of its secrets, naming the provider", async () => {
    const { outcomes } = await resolve(planOf(A, B), {});
    for (const raw of [A, B])
      expect(failure(outcomes.get(raw)).error).toMatchObject({
        code: "INTERNAL",
        message: "provider failed to load",
        subject: { provider: "file", ref: raw },
      });
  });

  it("holds every fetched value to the size cap, with one message, and does not retry it", async () => {
    const provider = fake((ref) =>
      Promise.resolve(
        ref.raw === A
          ? { bytes: new Uint8Array(MAX_SECRET_BYTES + 1) }
          : { bytes: new Uint8Array(MAX_SECRET_BYTES) },
      ),
    );
    const { outcomes } = await resolve(planOf(A, B), { file: provider }, { stopOnFailure: false });
    expect(failure(outcomes.get(A)).error).toMatchObject({
      code: "FETCH_FAILED",
      message: `${A}: the value is larger than ${MAX_SECRET_BYTES} bytes`,
      subject: { provider: "file", ref: A },
    });
    expect(provider.attempts.get(A)).toBe(1);
    expect(outcomes.get(B)?.ok).toBe(true);
  });
});
