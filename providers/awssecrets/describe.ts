// checkVersion for `--watch`: which version a fetch would serve now, from DescribeSecret (metadata
// only: no value is downloaded or decrypted). The answer is the VersionId that carries the stage the
// reference reads, the same string GetSecretValue and BatchGetSecretValue put in Fetched.version.
import type { DescribeSecretCommandOutput, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { type ProviderContext, type Ref, SecretwrapError } from "../../src/provider-api.ts";
import { mapSdkError, type SdkErrorShape } from "./errors.ts";
import { NAME } from "./options.ts";
import type { Sdk } from "./read.ts";

const SERVICE = "AWS Secrets Manager";

/** What GetSecretValue reads when a reference names no stage. */
const DEFAULT_STAGE = "AWSCURRENT";

/**
 * The codes that mean "this identity may not call DescribeSecret". Not DecryptionFailure or KMS
 * denials: DescribeSecret decrypts nothing.
 */
const DENIED = new Set(["AccessDeniedException", "AccessDenied"]);

const DENIAL = Symbol("DescribeSecret denied");

/**
 * Whether this session may call DescribeSecret. Many policies grant GetSecretValue only: the first
 * denial switches the cheap check off for the session (the watch then fetches and compares bytes),
 * so a denied call is sent once, not once per secret per interval. Every call waits for the
 * session's first one to settle, so a watch that checks many secrets at once sends one probe, not a
 * burst of denied calls; after that they run side by side.
 */
export class DescribeAccess {
  #denied = false;
  #first: Promise<unknown> | undefined;

  /** The answer of `call`, or undefined once a call was denied (`onDenied` runs for the first). */
  async run<T>(call: () => Promise<T | typeof DENIAL>, onDenied: () => void): Promise<T | undefined> {
    const first = this.#first;
    if (first !== undefined) await first.then(noop, noop);
    if (this.#denied) return undefined;
    const pending = call();
    this.#first ??= pending;
    const answer = await pending;
    if (answer !== DENIAL) return answer;
    if (!this.#denied) onDenied();
    this.#denied = true;
    return undefined;
  }
}

function noop(): void {}

export interface VersionCheck {
  readonly client: SecretsManagerClient;
  readonly sdk: Sdk;
  readonly access: DescribeAccess;
  readonly log: ProviderContext["log"];
  /** The configured endpoint, named in network failures (undefined: the SDK's default). */
  readonly endpoint: string | undefined;
}

/** The VersionId a fetch of `ref` would serve now; undefined when DescribeSecret is denied. */
export async function checkVersion(
  check: VersionCheck,
  ref: Ref,
  signal: AbortSignal,
): Promise<string | undefined> {
  // A pinned version never changes: nothing to ask. (Should a stage named beside it move away, the
  // next fetch fails as it would without --watch.)
  const pinned = ref.params["version_id"];
  if (pinned !== undefined) return pinned;
  const what = ref.locator;
  const output = await check.access.run(
    () => describe(check, ref.locator, signal),
    () =>
      check.log.debug(
        "DescribeSecret is denied to this identity: --watch fetches AWS secrets to compare them instead",
        { provider: NAME },
      ),
  );
  if (output === undefined) return undefined;
  if (output.DeletedDate !== undefined) {
    // GetSecretValue refuses such a secret (InvalidRequestException): fail as a fetch would.
    throw new SecretwrapError("FETCH_FAILED", `${what}: ${SERVICE} has the secret scheduled for deletion`, {
      hint: "a secret scheduled for deletion cannot be read until restored",
    });
  }
  const stage = ref.params["version_stage"] ?? DEFAULT_STAGE;
  for (const [versionId, stages] of Object.entries(output.VersionIdsToStages ?? {})) {
    if (stages.includes(stage)) return versionId;
  }
  // What GetSecretValue answers for a stage no version carries (ResourceNotFoundException).
  throw new SecretwrapError("SECRET_NOT_FOUND", `${what}: ${SERVICE} has no version in stage ${stage}`);
}

async function describe(
  check: VersionCheck,
  secretId: string,
  signal: AbortSignal,
): Promise<DescribeSecretCommandOutput | typeof DENIAL> {
  try {
    return await check.client.send(new check.sdk.DescribeSecretCommand({ SecretId: secretId }), {
      abortSignal: signal,
    });
  } catch (error) {
    const name = (error as SdkErrorShape | null)?.name;
    if (name !== undefined && DENIED.has(name)) return DENIAL;
    throw mapSdkError(error, secretId, SERVICE, check.endpoint);
  }
}
