// One GetSecretValue call, and a secret version → the bytes handed to the core.
import type { GetSecretValueCommandOutput, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { type Fetched, SecretwrapError } from "../../src/provider-api.ts";
import { mapSdkError } from "./errors.ts";

export type Sdk = typeof import("@aws-sdk/client-secrets-manager");
export type SecretValue = Pick<
  GetSecretValueCommandOutput,
  "ARN" | "Name" | "VersionId" | "SecretString" | "SecretBinary"
>;

export async function getSingle(
  client: SecretsManagerClient,
  sdk: Sdk,
  input: { SecretId: string; VersionId?: string; VersionStage?: string },
  signal: AbortSignal,
  what: string,
  /** The configured endpoint, named in network failures (undefined: the SDK's default). */
  endpoint?: string,
): Promise<SecretValue> {
  try {
    return await client.send(new sdk.GetSecretValueCommand(input), { abortSignal: signal });
  } catch (error) {
    throw mapSdkError(error, what, "AWS Secrets Manager", endpoint);
  }
}

export function toFetched(value: SecretValue, what: string): Fetched {
  let bytes: Uint8Array;
  if (value.SecretBinary !== undefined) bytes = value.SecretBinary;
  else if (value.SecretString !== undefined) bytes = new TextEncoder().encode(value.SecretString);
  else throw new SecretwrapError("FETCH_FAILED", `${what}: the secret version holds no value`);
  return value.VersionId === undefined ? { bytes } : { bytes, version: value.VersionId };
}
