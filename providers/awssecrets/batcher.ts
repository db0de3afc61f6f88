// Batching: version-less requests for one region that arrive together go out as BatchGetSecretValue
// calls (20 ids each); per-secret failures inside the 200 are mapped one by one.
import type { BatchGetSecretValueCommandOutput, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { SecretwrapError } from "../../src/provider-api.ts";
import { allAborted } from "../kit/turn-batch.ts";
import { mapSdkError } from "./errors.ts";
import { getSingle, type Sdk, type SecretValue } from "./read.ts";

/** BatchGetSecretValue takes at most 20 ids in SecretIdList. */
export const BATCH_LIMIT = 20;

interface Waiter {
  readonly id: string;
  readonly signal: AbortSignal;
  readonly resolve: (value: SecretValue) => void;
  readonly reject: (error: SecretwrapError) => void;
}

/**
 * Collects the version-less requests for one region that arrive in the same turn of the event loop
 * (the core starts up to --concurrency fetches at once) and sends them as BatchGetSecretValue calls;
 * a lone request goes out as GetSecretValue.
 */
export class RegionBatcher {
  readonly #client: SecretsManagerClient;
  readonly #sdk: Sdk;
  #queue: Waiter[] = [];
  /** The identity may call GetSecretValue but not BatchGetSecretValue: stop trying to batch. */
  #batchDenied = false;

  /** The configured endpoint, named in network failures (undefined: the SDK's default). */
  readonly #endpoint: string | undefined;

  constructor(client: SecretsManagerClient, sdk: Sdk, endpoint?: string) {
    this.#client = client;
    this.#sdk = sdk;
    this.#endpoint = endpoint;
  }

  get(id: string, signal: AbortSignal): Promise<SecretValue> {
    return new Promise((resolve, reject) => {
      if (this.#queue.length === 0) setImmediate(() => void this.#flush());
      this.#queue.push({ id, signal, resolve, reject });
    });
  }

  async #flush(): Promise<void> {
    const waiters = this.#queue.filter((w) => !w.signal.aborted);
    this.#queue = [];
    if (waiters.length === 1 || this.#batchDenied) {
      await Promise.all(waiters.map((w) => this.#single(w)));
      return;
    }
    const chunks: Waiter[][] = [];
    for (let i = 0; i < waiters.length; i += BATCH_LIMIT) chunks.push(waiters.slice(i, i + BATCH_LIMIT));
    await Promise.all(chunks.map((chunk) => this.#batch(chunk)));
  }

  async #batch(chunk: Waiter[]): Promise<void> {
    const ids = [...new Set(chunk.map((w) => w.id))];
    let output: BatchGetSecretValueCommandOutput;
    try {
      output = await this.#client.send(new this.#sdk.BatchGetSecretValueCommand({ SecretIdList: ids }), {
        abortSignal: allAborted(chunk.map((w) => w.signal)),
      });
    } catch (error) {
      const failure = mapSdkError(error, "BatchGetSecretValue", "AWS Secrets Manager", this.#endpoint);
      if (failure.code === "ACCESS_DENIED") {
        // Many policies grant only GetSecretValue; each secret then goes out on its own.
        this.#batchDenied = true;
        await Promise.all(chunk.map((w) => this.#single(w)));
        return;
      }
      for (const w of chunk) w.reject(mapSdkError(error, w.id, "AWS Secrets Manager", this.#endpoint));
      return;
    }
    const values = output.SecretValues ?? [];
    const errors = output.Errors ?? [];
    for (const w of chunk) {
      const value = values.find((v) => v.Name === w.id || v.ARN === w.id);
      if (value !== undefined) {
        w.resolve(value);
        continue;
      }
      const failure = errors.find((e) => e.SecretId === w.id);
      if (failure !== undefined) {
        w.reject(mapSdkError({ name: failure.ErrorCode ?? "UnknownError" }, w.id, "AWS Secrets Manager"));
        continue;
      }
      // Neither listed (e.g. a partial ARN the answer spells out in full): ask for it alone.
      void this.#single(w);
    }
  }

  #single(w: Waiter): Promise<void> {
    return getSingle(this.#client, this.#sdk, { SecretId: w.id }, w.signal, w.id, this.#endpoint).then(
      w.resolve,
      w.reject,
    );
  }
}
