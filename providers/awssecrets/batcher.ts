// Batching: version-less requests for one region that arrive together (kit/turn-batch.ts) go out as
// BatchGetSecretValue calls (20 ids each); per-secret failures inside the 200 are mapped one by one.
import type { BatchGetSecretValueCommandOutput, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SecretwrapError } from "../../src/provider-api.ts";
import { type BatchAnswer, TurnBatcher } from "../kit/turn-batch.ts";
import { mapSdkError } from "./errors.ts";
import { getSingle, type Sdk, type SecretValue } from "./read.ts";

/** BatchGetSecretValue takes at most 20 ids in SecretIdList. */
export const BATCH_LIMIT = 20;

/**
 * The version-less requests for one region made in the same turn of the event loop (the core starts
 * up to --concurrency fetches at once), sent as BatchGetSecretValue calls; a lone one goes out as
 * GetSecretValue.
 */
export class RegionBatcher {
  readonly #client: SecretsManagerClient;
  readonly #sdk: Sdk;
  readonly #batcher: TurnBatcher<SecretValue>;
  /** The identity may call GetSecretValue but not BatchGetSecretValue: stop trying to batch. */
  #batchDenied = false;

  /** The configured endpoint, named in network failures (undefined: the SDK's default). */
  readonly #endpoint: string | undefined;

  constructor(client: SecretsManagerClient, sdk: Sdk, endpoint?: string) {
    this.#client = client;
    this.#sdk = sdk;
    this.#endpoint = endpoint;
    this.#batcher = new TurnBatcher(BATCH_LIMIT, (ids, signal) => this.#send(ids, signal));
  }

  get(id: string, signal: AbortSignal): Promise<SecretValue> {
    return this.#batcher.get(id, signal);
  }

  async #send(ids: readonly string[], signal: AbortSignal): Promise<BatchAnswer<SecretValue>> {
    if (ids.length === 1 || this.#batchDenied) return this.#singles(ids, signal);
    let output: BatchGetSecretValueCommandOutput;
    try {
      output = await this.#client.send(new this.#sdk.BatchGetSecretValueCommand({ SecretIdList: [...ids] }), {
        abortSignal: signal,
      });
    } catch (error) {
      const failure = mapSdkError(error, "BatchGetSecretValue", "AWS Secrets Manager", this.#endpoint);
      if (failure.code === "ACCESS_DENIED") {
        // Many policies grant only GetSecretValue; each secret then goes out on its own.
        this.#batchDenied = true;
        return this.#singles(ids, signal);
      }
      return new Map(ids.map((id) => [id, mapSdkError(error, id, "AWS Secrets Manager", this.#endpoint)]));
    }
    const values = output.SecretValues ?? [];
    const errors = output.Errors ?? [];
    const answer = new Map<string, SecretValue | SecretwrapError>();
    const unlisted: string[] = [];
    for (const id of ids) {
      const value = values.find((v) => v.Name === id || v.ARN === id);
      const failure = errors.find((e) => e.SecretId === id);
      if (value !== undefined) answer.set(id, value);
      else if (failure !== undefined)
        answer.set(id, mapSdkError({ name: failure.ErrorCode ?? "UnknownError" }, id, "AWS Secrets Manager"));
      // Neither listed (e.g. a partial ARN the answer spells out in full): ask for it alone.
      else unlisted.push(id);
    }
    for (const [id, outcome] of await this.#singles(unlisted, signal)) answer.set(id, outcome);
    return answer;
  }

  /** GetSecretValue for each id, concurrently; getSingle fails only with a SecretwrapError. */
  async #singles(ids: readonly string[], signal: AbortSignal): Promise<BatchAnswer<SecretValue>> {
    const outcomes = await Promise.all(
      ids.map((id) =>
        getSingle(this.#client, this.#sdk, { SecretId: id }, signal, id, this.#endpoint).then(
          (value): SecretValue | SecretwrapError => value,
          (error: unknown) => {
            if (error instanceof SecretwrapError) return error;
            throw error;
          },
        ),
      ),
    );
    return new Map(ids.map((id, i) => [id, outcomes[i] as SecretValue | SecretwrapError]));
  }
}
