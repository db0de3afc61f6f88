// Batch read APIs (Secrets Manager's BatchGetSecretValue, SSM's GetParameters): the fetches the core
// starts together (up to --concurrency at once) arrive in the same turn of the event loop, and go out
// as one request per `limit` of them.
import { SecretwrapError } from "../../src/provider-api.ts";

/** One request's answer for each key it was asked for: a value, or that key's own failure. */
export type BatchAnswer<Value> = ReadonlyMap<string, Value | SecretwrapError>;

interface Waiter<Value> {
  readonly key: string;
  readonly signal: AbortSignal;
  readonly resolve: (value: Value) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Collects `get`s made in the same turn and hands their keys (each once) to `send`, `limit` at a time.
 * `send` throws a SecretwrapError when the whole request failed (every waiter of it gets it); a key its
 * answer does not mention fails as a bug of that answer.
 */
export class TurnBatcher<Value> {
  readonly #limit: number;
  readonly #send: (keys: readonly string[], signal: AbortSignal) => Promise<BatchAnswer<Value>>;
  #queue: Waiter<Value>[] = [];

  constructor(
    limit: number,
    send: (keys: readonly string[], signal: AbortSignal) => Promise<BatchAnswer<Value>>,
  ) {
    this.#limit = limit;
    this.#send = send;
  }

  get(key: string, signal: AbortSignal): Promise<Value> {
    return new Promise((resolve, reject) => {
      if (this.#queue.length === 0) setImmediate(() => void this.#flush());
      this.#queue.push({ key, signal, resolve, reject });
    });
  }

  async #flush(): Promise<void> {
    const byKey = new Map<string, Waiter<Value>[]>();
    for (const waiter of this.#queue) {
      if (waiter.signal.aborted) {
        waiter.reject(waiter.signal.reason);
        continue;
      }
      byKey.set(waiter.key, [...(byKey.get(waiter.key) ?? []), waiter]);
    }
    this.#queue = [];
    const keys = [...byKey.keys()];
    const chunks: string[][] = [];
    for (let i = 0; i < keys.length; i += this.#limit) chunks.push(keys.slice(i, i + this.#limit));
    await Promise.all(chunks.map((chunk) => this.#batch(chunk, byKey)));
  }

  async #batch(keys: readonly string[], byKey: ReadonlyMap<string, Waiter<Value>[]>): Promise<void> {
    const waiters = keys.flatMap((key) => byKey.get(key) ?? []);
    let answer: BatchAnswer<Value>;
    try {
      answer = await this.#send(keys, allAborted(waiters.map((w) => w.signal)));
    } catch (error) {
      for (const w of waiters) w.reject(error);
      return;
    }
    for (const w of waiters) {
      const value = answer.get(w.key);
      if (value instanceof SecretwrapError) w.reject(value);
      else if (value !== undefined) w.resolve(value);
      else w.reject(new SecretwrapError("FETCH_FAILED", `${w.key}: the service's answer did not mention it`));
    }
  }
}

/** A signal that fires once every participant of a shared call has given up. */
function allAborted(signals: readonly AbortSignal[]): AbortSignal {
  const controller = new AbortController();
  let remaining = signals.length;
  for (const signal of signals) {
    const onAbort = (): void => {
      remaining -= 1;
      if (remaining === 0) controller.abort(signal.reason);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  }
  return controller.signal;
}
