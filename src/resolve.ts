// Loads the providers a plan needs (lazily), logs in once each, and fetches every distinct secret in
// parallel under a per-provider concurrency limit, a per-attempt timeout and one cancellation signal.
// What every provider would otherwise repeat is done here, once: each error a provider throws names
// its provider, and every fetched value is held to the size cap. Failures are collected per secret;
// deciding what a failure means for the run is the command's job.
import { Cancelled, type Cancellation } from "./cancellation.ts";
import { describeRef, type Ref } from "./config/ref.ts";
import { SecretwrapError } from "./errors.ts";
import { MAX_SECRET_BYTES } from "./limits.ts";
import type { Logger } from "./log.ts";
import type { Plan } from "./plan.ts";
import type { Scheme } from "./provider.ts";
import type { Fetched, Provider, Session } from "./provider-api.ts";
import type { Redactor } from "./redact.ts";
import { FetchAbandoned, withRetry, type OnRetry, type RetryPolicy } from "./retry.ts";
import { createRunState } from "./run-state.ts";

export type FetchOutcome =
  | { readonly ok: true; readonly fetched: Fetched; readonly durationMs: number }
  | { readonly ok: false; readonly error: SecretwrapError; readonly abandoned: boolean };

export interface ResolveOptions {
  /** scheme → its provider (src/provider.ts loadProvider; a fake one in tests). */
  readonly loadProvider: (scheme: Scheme) => Promise<Provider>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly providerOptions: Readonly<Partial<Record<Scheme, unknown>>>;
  readonly log: Logger;
  readonly redactor: Redactor;
  /** The run's deadline and stop signals (src/cancellation.ts). */
  readonly cancellation: Cancellation;
  readonly retry: RetryPolicy;
  readonly concurrency: number;
  /** run/get/render stop early once a secret failed for good; check wants every secret's own answer. */
  readonly stopOnFailure: boolean;
  /**
   * --watch: the sessions stay open and come back in the resolution (the watch renews, re-reads and
   * revokes through them, and closes them). Otherwise each is closed once its fetches settled.
   */
  readonly keepSessions?: boolean;
}

export interface Resolution {
  readonly outcomes: ReadonlyMap<string, FetchOutcome>;
  readonly consumedEnv: readonly string[];
  /** With keepSessions: each provider's open session (a failed login has none). */
  readonly sessions: ReadonlyMap<Scheme, Session>;
}

/** What fetching one secret under the core's rules needs (retry, deadline, size cap, masking). */
export interface FetchRules {
  readonly log: Logger;
  readonly redactor: Redactor;
  readonly retry: RetryPolicy;
}

/** The debug line before each retry of `what`, the same for every operation the core retries. */
export function retryLog(log: Logger, what: string): OnRetry {
  return (attempt, delayMs, error) =>
    log.debug(`retrying ${what}`, { attempt, delayMs, reason: error.message });
}

/**
 * Fetch one secret through a session with the core's rules: retried while transient within
 * `cancellation`, its value masked in all output from here on and held to the size cap. Any failure
 * is a SecretwrapError (FetchAbandoned when the cancellation ended it); the caller names the subject.
 */
export async function fetchOne(
  session: Session,
  ref: Ref,
  cancellation: Cancellation,
  rules: FetchRules,
): Promise<Fetched> {
  const what = describeRef(ref.raw);
  try {
    const fetched = await withRetry(
      what,
      (signal) => session.fetch(ref, signal),
      cancellation,
      rules.retry,
      retryLog(rules.log, what),
    );
    rules.redactor.add(fetched.bytes);
    if (fetched.bytes.byteLength > MAX_SECRET_BYTES) throw tooLarge(what);
    return fetched;
  } catch (error) {
    throw error instanceof SecretwrapError
      ? error
      : new SecretwrapError("INTERNAL", "fetch failed unexpectedly", { cause: error });
  }
}

export async function resolvePlan(plan: Plan, options: ResolveOptions): Promise<Resolution> {
  const outcomes = new Map<string, FetchOutcome>();
  const consumedEnv: string[] = [];
  const sessions = new Map<Scheme, Session>();
  // Once one secret has failed for good the command will not start: requests still in flight for
  // the others are abandoned rather than left to run to their timeouts, and none is retried.
  const giveUp = new AbortController();
  const failForGood = (): void => {
    if (options.stopOnFailure) giveUp.abort(new Cancelled({ why: "abandoned" }));
  };
  const cancellation: Cancellation = {
    signal: AbortSignal.any([options.cancellation.signal, giveUp.signal]),
    deadlineAt: options.cancellation.deadlineAt,
  };
  const byScheme = new Map<Scheme, [string, Ref][]>();
  for (const [key, ref] of plan.fetches) {
    const list = byScheme.get(ref.scheme) ?? [];
    list.push([key, ref]);
    byScheme.set(ref.scheme, list);
  }
  const runScheme = async (scheme: Scheme, fetches: [string, Ref][]): Promise<void> => {
    let session: Session;
    try {
      const provider = await options.loadProvider(scheme);
      const ctx = {
        env: options.env,
        log: options.log,
        addSecret: (value: string | Uint8Array) => options.redactor.add(value),
        attemptTimeoutMs: options.retry.attemptTimeoutMs,
        runState: createRunState(),
      };
      const started = Date.now();
      session = await withRetry(
        `${scheme} login`,
        (signal) => provider.connect(options.providerOptions[scheme] ?? {}, ctx, signal),
        cancellation,
        options.retry,
        retryLog(options.log, `${scheme} login`),
      );
      options.log.debug("logged in", { provider: scheme, durationMs: Date.now() - started });
    } catch (error) {
      const failure =
        error instanceof SecretwrapError
          ? error
          : new SecretwrapError("INTERNAL", "provider failed to load", { cause: error });
      const abandoned = failure instanceof FetchAbandoned;
      if (!abandoned) failForGood();
      for (const [key, ref] of fetches)
        outcomes.set(key, {
          ok: false,
          error: failure.about({ provider: scheme, ref: describeRef(ref.raw) }),
          abandoned,
        });
      return;
    }
    consumedEnv.push(...session.consumedEnv);
    if (options.keepSessions === true) sessions.set(scheme, session);
    try {
      await mapLimit(fetches, options.concurrency * (session.batchSize ?? 1), async ([key, ref]) => {
        const started = Date.now();
        try {
          const fetched = await fetchOne(session, ref, cancellation, options);
          outcomes.set(key, { ok: true, fetched, durationMs: Date.now() - started });
        } catch (error) {
          const failure = error as SecretwrapError;
          const abandoned = failure instanceof FetchAbandoned;
          if (failure.code !== "SECRET_NOT_FOUND" && !abandoned) failForGood();
          const subject = { provider: scheme, ref: describeRef(ref.raw) };
          outcomes.set(key, { ok: false, error: failure.about(subject), abandoned });
        }
      });
    } finally {
      if (options.keepSessions !== true) await closeSession(session, scheme, options.log);
    }
  };
  await Promise.all([...byScheme].map(([scheme, fetches]) => runScheme(scheme, fetches)));
  return { outcomes, consumedEnv, sessions };
}

/** Closing is best effort: a session that fails to close has nothing more to give the run. */
export async function closeSession(session: Session, scheme: Scheme, log: Logger): Promise<void> {
  await session.close().catch((error: unknown) =>
    log.debug("closing the session failed", {
      provider: scheme,
      error: error instanceof Error ? error.name : typeof error,
    }),
  );
}

/** One rule and one message for every provider: a larger answer is refused, never truncated. */
function tooLarge(what: string): SecretwrapError {
  return new SecretwrapError("FETCH_FAILED", `${what}: the value is larger than ${MAX_SECRET_BYTES} bytes`, {
    hint: `a secret may hold at most ${MAX_SECRET_BYTES} bytes`,
  });
}

export async function mapLimit<T>(
  items: readonly T[],
  limit: number,
  worker: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await worker(item);
    }
  });
  await Promise.all(lanes);
}
